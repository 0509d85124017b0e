// Package dlq reads dead letters and makes them actionable: who owns one,
// why it failed, where its original came from, and how to send the
// original back.
//
// A dead letter comes in one of three shapes (Format): a JSON wrapper
// holding the original event beside its error context (the AuthorWorks
// standard: original_event + error), or the original value as is with the
// error in headers — Spring Kafka's DeadLetterPublishingRecoverer
// (kafka_dlt-exception-*, kafka_dlt-original-*) or Kafka Connect
// (__connect.errors.*). Read turns any of them into a Letter:
//
//   - identity: the owning service is the wrapped original's source, else
//     the record's own envelope source (an as-is original), else the one
//     the dead-letter topic's name gives (service.deadletter) — the audit
//     engine computes it (event.Result.Source) so that metrics, examples,
//     tail and team reports agree; OwnerFrom says which;
//   - origin: original topic, partition, offset and consumer group, from
//     the headers or the wrapper's fields;
//   - cause: exception class and message, normalised (Normalise) into an
//     ErrorClass, the key triage groups by. Payload values never survive:
//     quoted values, numbers and ids are stripped from messages.
//
// Unwrap takes the original record out of a dead letter for replay: its
// value (the wrapped original, or the value as is), its key, its original
// headers (the letter's minus the error headers) and its target topic.
package dlq
