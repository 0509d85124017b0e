'use strict';
// OpenTelemetry bootstrap for the relay, loaded with `node --require ./tracing.js`.
// The NodeSDK registers the W3C trace-context propagator by default, which is
// what makes the kafkajs instrumentation write a `traceparent` header on every
// produced record. Exporter settings come from the standard OTEL_* variables
// (OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL,
// OTEL_TRACES_EXPORTER). OTEL_TRACES_EXPORTER=kafka writes the spans to a
// Kafka topic instead, as the OpenTelemetry Collector's Kafka exporter does
// (see kafka-exporter.js). RELAY_TRACING=off loads no tracing at all: the
// relay is an uninstrumented service (no traceparent, no spans).
const off = process.env.RELAY_TRACING === 'off';
let sdk = null;
if (!off) {
  const { NodeSDK } = require('@opentelemetry/sdk-node');
  const { KafkaJsInstrumentation } = require('@opentelemetry/instrumentation-kafkajs');
  const options = { instrumentations: [new KafkaJsInstrumentation()] };
  if (process.env.OTEL_TRACES_EXPORTER === 'kafka') {
    const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
    const { KafkaSpanExporter } = require('./kafka-exporter.js');
    delete process.env.OTEL_TRACES_EXPORTER; // the SDK knows no "kafka" exporter: the processor below is the one
    options.spanProcessors = [new BatchSpanProcessor(new KafkaSpanExporter())];
  }
  sdk = new NodeSDK(options);
  sdk.start();
}

async function shutdown() {
  if (sdk === null) {
    return;
  }
  try {
    await sdk.shutdown();
  } catch (err) {
    console.error(`relay: otel shutdown: ${err.message}`);
  }
}

process.once('beforeExit', shutdown);
module.exports = { shutdown };
