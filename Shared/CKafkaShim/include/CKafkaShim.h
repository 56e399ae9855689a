#ifndef CKAFKASHIM_H
#define CKAFKASHIM_H
#include <stddef.h>
#include <stdint.h>

/* librdkafka's opaque handles, declared here instead of including its headers: a header that two Clang
   modules include is owned by whichever module is built first, and Swift files importing only the other
   (CRdKafka) then lose its constants. librdkafka's declarations belong to CRdKafka alone. */
typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_headers_s rd_kafka_headers_t;

/// One produce call with key, value, headers (ownership of `headers` passes to librdkafka on success)
/// and a per-message opaque; the payload is copied. Returns the librdkafka error code (rd_kafka_resp_err_t).
int npr_produce(rd_kafka_t *rk, const char *topic, int32_t partition,
                const void *key, size_t key_len,
                const void *value, size_t value_len,
                rd_kafka_headers_t *headers, void *opaque);
#endif
