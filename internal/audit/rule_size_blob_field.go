package audit

var ruleBlobField = recordRule{
	info: RuleInfo{ID: "size.blob_field", Severity: SeverityError, Scope: ScopeRecord,
		Summary:  "a field carries a blob (long free text, base64, data URI) instead of a storage reference",
		Standard: "HuleEdu 030 §3.4 (SHALL NOT carry large data blobs; carry StorageReferenceMetadata)"},
	check: checkBlobField,
}

func checkBlobField(c *evalCtx) {
	for _, b := range c.s.blobs {
		c.report(rBlobField, b.path, "field "+b.path+" carries "+b.reason+"; store it and send a storage reference")
	}
}
