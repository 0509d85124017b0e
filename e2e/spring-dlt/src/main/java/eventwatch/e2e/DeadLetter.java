package eventwatch.e2e;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.ListenerExecutionFailedException;
import org.springframework.kafka.retrytopic.RetryTopicConstants;

/**
 * Dead-letters one record the way a Spring Kafka consumer does when its
 * listener fails: DeadLetterPublishingRecoverer republishes the original
 * value as is to the dead-letter topic and puts the error in
 * kafka_dlt-exception-* headers (and the origin in kafka_dlt-original-*).
 *
 * Usage: DeadLetter BOOTSTRAP SOURCE_TOPIC DLT_TOPIC < original-value
 *
 * DLT_TOPIC "-" keeps Spring's own default destination resolver (the
 * dead-letter topic Spring names itself: SOURCE_TOPIC + ".DLT", same
 * partition); the program then also prints the @RetryableTopic default
 * dead-letter suffix (RetryTopicConstants.DEFAULT_DLT_SUFFIX), so a test
 * compares eventwatch's default DLQ patterns with both of Spring's names.
 */
public final class DeadLetter {
    private DeadLetter() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: DeadLetter BOOTSTRAP SOURCE_TOPIC DLT_TOPIC < value");
            System.exit(2);
        }
        byte[] value = System.in.readAllBytes();
        Map<String, Object> props = Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, args[0],
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class,
                ProducerConfig.ACKS_CONFIG, "all");
        DefaultKafkaProducerFactory<byte[], byte[]> pf = new DefaultKafkaProducerFactory<>(props);
        KafkaTemplate<byte[], byte[]> template = new KafkaTemplate<>(pf);
        String dlt = args[2];
        DeadLetterPublishingRecoverer recoverer = "-".equals(dlt)
                ? new DeadLetterPublishingRecoverer(template)
                : new DeadLetterPublishingRecoverer(template, (record, ex) -> new TopicPartition(dlt, -1));
        recoverer.setFailIfSendResultIsError(true);
        recoverer.setWaitForSendResultTimeout(Duration.ofSeconds(30));
        ConsumerRecord<byte[], byte[]> failed = new ConsumerRecord<>(args[1], 0, 41L,
                "essay-42".getBytes(StandardCharsets.UTF_8), value);
        recoverer.accept(failed, new ListenerExecutionFailedException("listener failed",
                new IllegalStateException("spellcheck service unavailable")));
        template.flush();
        pf.destroy();
        if ("-".equals(dlt)) {
            System.out.println("retryable-topic dlt suffix: " + RetryTopicConstants.DEFAULT_DLT_SUFFIX);
        }
        System.out.println("dead-lettered to " + dlt);
    }
}
