package audit

// Catalog is what the catalog.* rules ask of an event catalog: whether a
// type (and version) is registered, who produces it, and whether data
// matches its schema. internal/catalog's *Catalog (a directory of entries
// or an AsyncAPI document) implements it; the engine never sees how.
type Catalog interface {
	HasType(eventType string) bool                                                   // any version of the type is registered
	HasTypeVersion(eventType, version string) bool                                   // this version is registered
	ProducedBy(eventType, version, service string) (produced, registered bool)       // service is a registered producer
	Producers(eventType, version string) []string                                    // registered producers, main first
	Validate(eventType, version string, data []byte) (msg, version2 string, ok bool) // schema check of data
}
