/// Every metric a process exports, with its HELP text: one place, so `/metrics` describes each family and
/// a test can hold the names to Prometheus conventions (`_total` counters, unit suffixes).
public enum MetricCatalogue {
    public static let help: [String: String] = [
        // Stream runtime (every stateful service)
        "npr_consumed_messages_total": "Input messages applied by the service's stream runtime.",
        "npr_produced_messages_total": "Output records the service published.",
        "npr_unreadable_messages_total": "Input messages that could not be decoded or were implausible (sent to npr.deadletter).",
        "npr_flush_seconds": "Processing latency: time to flush one batch (engine deltas, state commit with offsets, publication).",
        "npr_consumer_lag_messages": "The service's own view of its lag per input partition (end offset minus its position).",
        "npr_input_offsets_lost_total": "Times the service found its committed input offset below the broker's log start.",
        "npr_input_lost_messages": "Messages between the service's position and the log start when input was lost.",
        "npr_state_size_bytes": "Size of the service's state store on disk (database and write-ahead log).",
        "npr_state_merge_seconds": "Time each merge of the state journal into the keyed table took (the service's stream waits for it).",
        "npr_unassigned_input_partitions":
            "Input partitions the consumer group gave to another member: above 0, an instance with a state directory of its own runs beside this one and values are wrong.",
        "npr_instance_active": "1 while this instance owns the service's state and runs it, 0 while it waits as a standby.",
        // Intake
        "intake_records_total": "Records decided by intake, by kind, institution and outcome.",
        "intake_rejections_total": "Record errors by kind, institution and error code.",
        "intake_request_seconds": "Intake HTTP request latency by path.",
        "intake_phase_seconds": "Time intake spends in each phase of deciding a round of records.",
        "intake_backpressure_waits_total": "Requests held because a consumer group lagged beyond its bound.",
        "intake_backpressure_refusals_total": "Requests refused with 503 after waiting the admission time for the pipeline.",
        "intake_pipeline_max_lag_messages": "Lag of the partition closest to its backpressure bound.",
        // Kafka client (librdkafka)
        "kafka_client_errors_total": "Errors librdkafka reported to the client.",
        "kafka_client_fatal_errors_total": "Fatal errors librdkafka reported to the client.",
        "kafka_client_produced_messages_total": "Messages the broker acknowledged to this producer.",
        "kafka_client_produce_failures_total": "Messages whose delivery failed.",
        "kafka_client_consumed_messages_total": "Messages this consumer fetched.",
        "kafka_client_rebalances_total": "Consumer group rebalances this consumer took part in.",
        "kafka_client_offset_out_of_range_total": "Fetches that found the position outside the broker's log.",
        "kafka_client_queued_messages": "Messages in the client's queues (librdkafka msg_cnt).",
        "kafka_client_queued_bytes": "Bytes of messages in the client's queues (librdkafka msg_size).",
        "kafka_client_reply_queue_events": "Events waiting to be served by the client (librdkafka replyq).",
        "kafka_client_sent_messages_total": "Messages transmitted to brokers (librdkafka txmsgs).",
        "kafka_client_received_messages_total": "Messages received from brokers (librdkafka rxmsgs).",
        "kafka_client_sent_requests_total": "Requests sent to brokers (librdkafka tx).",
        "kafka_client_received_responses_total": "Responses received from brokers (librdkafka rx).",
        // Lag exporter (kafka-lag-exporter's names)
        "kafka_consumergroup_group_offset": "Last committed offset of the group per partition.",
        "kafka_consumergroup_group_lag": "Messages between the group's committed offset and the end of the partition.",
        "kafka_consumergroup_group_lag_seconds": "Age of the oldest message the group has not processed, per partition.",
        "kafka_consumergroup_group_max_lag": "Largest partition lag of the group, in messages.",
        "kafka_consumergroup_group_max_lag_seconds": "Largest partition lag of the group, in seconds.",
        "kafka_consumergroup_group_sum_lag": "Sum of the group's partition lags, in messages.",
        "kafka_partition_latest_offset": "End offset of the partition (next offset to be written).",
        "kafka_partition_earliest_offset": "Log start offset of the partition.",
        "npr_consumergroup_status": "Burrow-style group status: 0 OK, 1 WARN, 2 ERR.",
    ]

    /// `exposition` with a `# HELP` line before every `# TYPE` line that lacks one.
    public static func describing(_ exposition: String) -> String {
        var out = ""
        out.reserveCapacity(exposition.utf8.count + 4096)
        var previous: Substring = ""
        for line in exposition.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), !previous.hasPrefix("# HELP "),
                let name = line.dropFirst("# TYPE ".count).split(separator: " ").first, let text = help[String(name)]
            {
                out += "# HELP \(name) \(text)\n"
            }
            out += line
            out += "\n"
            previous = line
        }
        if out.hasSuffix("\n\n") { out.removeLast() }
        return out
    }
}
