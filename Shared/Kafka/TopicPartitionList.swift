import CRdKafka

/// Helpers around `rd_kafka_topic_partition_list_t`.
enum TopicPartitionList {
    /// A new list (the caller destroys it) holding `partitions`, with offsets when given.
    static func make(_ partitions: [(TopicPartition, Int64?)]) -> UnsafeMutablePointer<rd_kafka_topic_partition_list_t> {
        guard let list = rd_kafka_topic_partition_list_new(Int32(max(partitions.count, 1))) else {
            fatalError("librdkafka could not allocate a topic-partition list (out of memory)")
        }
        for (tp, offset) in partitions {
            let element = rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition)
            if let offset { element?.pointee.offset = offset }
        }
        return list
    }

    /// The topic-partitions in a librdkafka list.
    static func read(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [(TopicPartition, Int64, rd_kafka_resp_err_t)] {
        UnsafeBufferPointer(start: list.pointee.elems, count: Int(list.pointee.cnt)).map { element in
            (TopicPartition(topic: String(cString: element.topic), partition: element.partition), element.offset, element.err)
        }
    }
}
