#ifndef CKAFKASHIM_H
#define CKAFKASHIM_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/// One produce call with key, value, headers (ownership of `headers` passes to librdkafka on success)
/// and a per-message opaque; the payload is copied. Returns the librdkafka error code.
rd_kafka_resp_err_t npr_produce(rd_kafka_t *rk, const char *topic, int32_t partition,
                                const void *key, size_t key_len,
                                const void *value, size_t value_len,
                                rd_kafka_headers_t *headers, void *opaque);
#endif
