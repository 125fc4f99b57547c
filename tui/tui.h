/*
 * tui.h: `greyproxy tui`, the terminal interface.  The only header of
 * tui/ that src/ may include (from main.c).
 */
#ifndef GP_TUI_H
#define GP_TUI_H

int	gp_cmd_tui(int, char **);

#endif
