'use strict';
// A one-hop relay: consumes RELAY_IN_TOPIC and, for every event, publishes a
// next-hop event to RELAY_OUT_TOPIC that keeps the correlation id and follows
// the HuleEdu EventEnvelope (event_id, event_type, event_timestamp,
// source_service, correlation_id, data). Tracing comes from tracing.js: the
// kafkajs instrumentation continues the incoming trace and injects the
// producer span as `traceparent` on the outgoing record.
//
// Environment:
//   RELAY_BROKERS     comma-separated bootstrap addresses (required)
//   RELAY_IN_TOPIC    topic to consume (required)
//   RELAY_OUT_TOPIC   topic to publish to (required)
//   RELAY_GROUP       consumer group id (default: relay-<in topic>)
//   RELAY_SERVICE     source_service of published events (default: OTEL_SERVICE_NAME)
//   RELAY_EVENT_TYPE  event_type of published events (required)
//   RELAY_FANOUT      events published per consumed event (default 1); with
//                     more than one, each gets the key "<incoming key>-<n>"
//   RELAY_KEY         keep (default: the incoming record's key) or none
//   RELAY_TRACING     off: no OpenTelemetry at all (an uninstrumented service)
const crypto = require('node:crypto');
const { Kafka, logLevel } = require('kafkajs');
const { shutdown: otelShutdown } = require('./tracing.js');

function config() {
  const need = (name) => {
    const v = process.env[name];
    if (!v) {
      throw new Error(`missing environment variable ${name}`);
    }
    return v;
  };
  const inTopic = need('RELAY_IN_TOPIC');
  return {
    brokers: need('RELAY_BROKERS').split(',').map((s) => s.trim()).filter(Boolean),
    inTopic,
    outTopic: need('RELAY_OUT_TOPIC'),
    group: process.env.RELAY_GROUP || `relay-${inTopic}`,
    service: process.env.RELAY_SERVICE || process.env.OTEL_SERVICE_NAME || 'relay',
    eventType: need('RELAY_EVENT_TYPE'),
    fanout: Math.max(1, parseInt(process.env.RELAY_FANOUT || '1', 10) || 1),
    key: process.env.RELAY_KEY || 'keep',
  };
}

// outKey is the key of the n-th event published for a record with key.
function outKey(cfg, key, n) {
  if (cfg.key === 'none' || key === null || key === undefined) {
    return null;
  }
  return cfg.fanout > 1 ? `${key.toString()}-${n + 1}` : key;
}

// nextEvent builds the next hop's envelope from the incoming one; a value
// that is not a JSON object yields null (the relay skips it).
function nextEvent(cfg, value) {
  let incoming;
  try {
    incoming = JSON.parse(value.toString('utf8'));
  } catch {
    return null;
  }
  if (incoming === null || typeof incoming !== 'object' || Array.isArray(incoming)) {
    return null;
  }
  return {
    event_id: crypto.randomUUID(),
    event_type: cfg.eventType,
    event_timestamp: new Date().toISOString(),
    source_service: cfg.service,
    correlation_id: incoming.correlation_id ?? null,
    data: { caused_by: incoming.event_id ?? null },
  };
}

async function main() {
  const cfg = config();
  const kafka = new Kafka({ clientId: cfg.service, brokers: cfg.brokers, logLevel: logLevel.WARN });
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId: cfg.group });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: cfg.inTopic, fromBeginning: true });

  let stopping = false;
  const stop = async (signal) => {
    if (stopping) {
      return;
    }
    stopping = true;
    console.log(`relay ${cfg.service}: ${signal}, stopping`);
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
    await otelShutdown();
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  consumer.on(consumer.events.GROUP_JOIN, () => console.log(`relay ${cfg.service}: joined group ${cfg.group}`));
  await consumer.run({
    eachMessage: async ({ message }) => {
      for (let n = 0; n < cfg.fanout; n++) {
        const out = nextEvent(cfg, message.value ?? Buffer.alloc(0));
        if (out === null) {
          console.log(`relay ${cfg.service}: skipped a record that is not a JSON object`);
          return;
        }
        await producer.send({
          topic: cfg.outTopic,
          messages: [{ key: outKey(cfg, message.key, n), value: JSON.stringify(out) }],
        });
        console.log(`relay ${cfg.service}: relayed ${out.event_id} (correlation ${out.correlation_id})`);
      }
    },
  });
  console.log(`relay ${cfg.service}: consuming ${cfg.inTopic}, publishing ${cfg.outTopic}`);
}

main().catch(async (err) => {
  console.error(`relay: ${err.stack || err.message}`);
  await otelShutdown();
  process.exit(1);
});
