'use strict';
// OpenTelemetry bootstrap for the relay, loaded with `node --require ./tracing.js`.
// The NodeSDK registers the W3C trace-context propagator by default, which is
// what makes the kafkajs instrumentation write a `traceparent` header on every
// produced record. Exporter settings come from the standard OTEL_* variables
// (OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL,
// OTEL_TRACES_EXPORTER).
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { KafkaJsInstrumentation } = require('@opentelemetry/instrumentation-kafkajs');

const sdk = new NodeSDK({ instrumentations: [new KafkaJsInstrumentation()] });
sdk.start();

async function shutdown() {
  try {
    await sdk.shutdown();
  } catch (err) {
    console.error(`relay: otel shutdown: ${err.message}`);
  }
}

process.once('beforeExit', shutdown);
module.exports = { shutdown };
