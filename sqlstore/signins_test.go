package sqlstore_test

// signinSchemaNames are the table and indexes of migration 0009.
var signinSchemaNames = []string{
	"signins", "signins_account_idx", "signins_digest_idx", "signins_expires_idx", "signins_id_idx",
}

// The migration tests compare a migrated schema with schemaNames; 0009's
// names join it here.
func init() { schemaNames = append(schemaNames, signinSchemaNames...) }
