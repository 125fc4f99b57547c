/*
 * fields.h: the JSON field names of the objects the API serves (the
 * original greyproxy's), in one place for the encoders (api/json.c) and
 * the TUI's decoders (tui/model.c), so the two cannot drift apart.
 */
#ifndef GP_API_FIELDS_H
#define GP_API_FIELDS_H

/* Shared */
#define GP_F_ID			"id"
#define GP_F_CONTAINER		"container_name"
#define GP_F_CONTAINER_ID	"container_id"
#define GP_F_HOST		"destination_host"
#define GP_F_PORT		"destination_port"
#define GP_F_HOSTNAME		"resolved_hostname"
#define GP_F_REQUEST		"request"

/* PendingRequest */
#define GP_F_FIRST_SEEN		"first_seen"
#define GP_F_LAST_SEEN		"last_seen"
#define GP_F_ATTEMPTS		"attempt_count"
#define GP_F_WAITING		"waiting"
#define GP_F_LOCAL		"local_network"
#define GP_F_PROTOCOL		"protocol"
#define GP_F_ADDRESSES		"addresses"

/* Rule */
#define GP_F_CONTAINER_PATTERN	"container_pattern"
#define GP_F_DEST_PATTERN	"destination_pattern"
#define GP_F_PORT_PATTERN	"port_pattern"
#define GP_F_METHOD_PATTERN	"method_pattern"
#define GP_F_PATH_PATTERN	"path_pattern"
#define GP_F_RULE_TYPE		"rule_type"
#define GP_F_ACTION		"action"
#define GP_F_CREATED_AT		"created_at"
#define GP_F_EXPIRES_AT		"expires_at"
#define GP_F_LAST_USED_AT	"last_used_at"
#define GP_F_CREATED_BY		"created_by"
#define GP_F_NOTES		"notes"
#define GP_F_IS_ACTIVE		"is_active"
#define GP_F_HIT_COUNT		"hit_count"

/* RequestLog */
#define GP_F_TIMESTAMP		"timestamp"
#define GP_F_METHOD		"method"
#define GP_F_RESULT		"result"
#define GP_F_RULE_ID		"rule_id"
#define GP_F_RESPONSE_MS	"response_time_ms"
#define GP_F_RULE_SUMMARY	"rule_summary"
#define GP_F_CLIENT_ADDR	"client_addr"
#define GP_F_OPEN		"open"		/* a tunnel not closed yet */
#define GP_F_RESOLVED_IP	"resolved_ip"
#define GP_F_REASON		"reason"
#define GP_F_BYTES_UP		"bytes_up"
#define GP_F_BYTES_DOWN		"bytes_down"
#define GP_F_COUNT		"count"

/* Events */
#define GP_F_PENDING_ID		"pending_id"
#define GP_F_CURRENT_COUNT	"current_count"

#endif
