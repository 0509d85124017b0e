'use strict';
// A span exporter that writes what the OpenTelemetry Collector's Kafka
// exporter writes: each message one serialized OTLP ExportTraceServiceRequest
// (encoding otlp_proto) on a topic (otlp_spans by default). eventwatch reads
// that topic for exact causation. The exporter's own sends are not traced
// (suppressTracing), or every export would make spans to export.
//
// Environment:
//   OTEL_EXPORTER_KAFKA_BROKERS  comma-separated bootstrap addresses (default RELAY_BROKERS)
//   OTEL_EXPORTER_KAFKA_TOPIC    topic (default otlp_spans)
const { Kafka, logLevel } = require('kafkajs');
const { context } = require('@opentelemetry/api');
const { ExportResultCode, suppressTracing } = require('@opentelemetry/core');
const { ProtobufTraceSerializer } = require('@opentelemetry/otlp-transformer');

class KafkaSpanExporter {
  constructor() {
    const brokers = (process.env.OTEL_EXPORTER_KAFKA_BROKERS || process.env.RELAY_BROKERS || '')
      .split(',').map((s) => s.trim()).filter(Boolean);
    if (brokers.length === 0) {
      throw new Error('OTEL_EXPORTER_KAFKA_BROKERS (or RELAY_BROKERS) is required for the kafka span exporter');
    }
    this.topic = process.env.OTEL_EXPORTER_KAFKA_TOPIC || 'otlp_spans';
    const kafka = new Kafka({ clientId: 'otel-kafka-exporter', brokers, logLevel: logLevel.WARN });
    this.producer = kafka.producer({ allowAutoTopicCreation: false });
    this.connected = null;
  }

  export(spans, done) {
    const value = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans));
    context.with(suppressTracing(context.active()), async () => {
      this.connected = this.connected || this.producer.connect();
      await this.connected;
      await this.producer.send({ topic: this.topic, messages: [{ value }] });
    }).then(
      () => done({ code: ExportResultCode.SUCCESS }),
      (error) => done({ code: ExportResultCode.FAILED, error }),
    );
  }

  async forceFlush() {}

  async shutdown() {
    if (this.connected) {
      await this.producer.disconnect().catch(() => {});
    }
  }
}

module.exports = { KafkaSpanExporter };
