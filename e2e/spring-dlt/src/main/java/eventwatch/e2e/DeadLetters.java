package eventwatch.e2e;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.ListenerExecutionFailedException;

/**
 * Dead-letters N AuthorWorks events the way a Spring Kafka consumer in
 * group "catalog-projector" does when its listener fails, rotating over
 * three causes (ids differ in each message): record i fails with
 * IllegalStateException (i % 3 == 0), IllegalArgumentException (1) or
 * java.util.concurrent.TimeoutException (2). Each original carries a
 * traceparent header, key "book-i", partition 0, offset 100 + i.
 *
 * Usage: DeadLetters BOOTSTRAP SOURCE_TOPIC DLT_TOPIC N
 */
public final class DeadLetters {
    private DeadLetters() {
    }

    static String event(int i) {
        return String.format("{\"meta\":{\"id\":\"0b6f3a52-4c1e-4b8e-9a7d-%012d\",\"type\":\"content.book.published\","
                + "\"version\":\"1.0\",\"timestamp\":\"2026-03-01T12:00:00Z\",\"correlation_id\":\"c-%d\",\"source\":\"content-service\"},"
                + "\"data\":{\"book_id\":\"book-%d\"}}", i, i, i);
    }

    static Exception cause(int i) {
        switch (i % 3) {
            case 0:
                return new IllegalStateException("search index unavailable for book-" + i + "x");
            case 1:
                return new IllegalArgumentException("isbn missing in event " + (1000 + i));
            default:
                return new java.util.concurrent.TimeoutException("cover-service did not answer within " + (2000 + i) + " ms");
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: DeadLetters BOOTSTRAP SOURCE_TOPIC DLT_TOPIC N");
            System.exit(2);
        }
        Map<String, Object> props = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0],
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.ACKS_CONFIG, "all");
        DefaultKafkaProducerFactory<byte[], byte[]> pf = new DefaultKafkaProducerFactory<>(props);
        KafkaTemplate<byte[], byte[]> template = new KafkaTemplate<>(pf);
        String dlt = args[2];
        DeadLetterPublishingRecoverer recoverer = new DeadLetterPublishingRecoverer(template,
                (record, ex) -> new TopicPartition(dlt, 0));
        recoverer.setFailIfSendResultIsError(true);
        recoverer.setWaitForSendResultTimeout(Duration.ofSeconds(30));
        int n = Integer.parseInt(args[3]);
        for (int i = 0; i < n; i++) {
            RecordHeaders headers = new RecordHeaders();
            headers.add("traceparent", String.format("00-0af7651916cd43dd8448eb211c8031%02d-b7ad6b7169203331-01", i)
                    .getBytes(StandardCharsets.UTF_8));
            ConsumerRecord<byte[], byte[]> failed = new ConsumerRecord<>(args[1], 0, 100L + i, 0L, TimestampType.CREATE_TIME,
                    -1, -1, ("book-" + i).getBytes(StandardCharsets.UTF_8), event(i).getBytes(StandardCharsets.UTF_8),
                    headers, java.util.Optional.empty());
            recoverer.accept(failed, null, new ListenerExecutionFailedException("listener failed", "catalog-projector", cause(i)));
        }
        template.flush();
        pf.destroy();
        System.out.println("dead-lettered " + n + " to " + dlt);
    }
}
