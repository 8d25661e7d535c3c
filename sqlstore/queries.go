package sqlstore

// The statements, written once with PostgreSQL placeholders ($1) and
// {{prefix}}; Store.sql adapts them to the dialect. Both dialects accept
// the same text for everything here: upsert with RETURNING, UPDATE ...
// RETURNING, CAST(... AS BIGINT), and << on 64-bit integers.

// deviceCols are the columns of a device, in the order scanDevice reads
// them and insertDevice writes them.
const deviceCols = `id, account, label, otp_type, algorithm, digits, period_ns, sealed, state,
	counter, drift, resync_step, resync_drift, attempts,
	created_at, expires_at, confirmed_at, last_used_at`

// The device states as stored (twofa.DevicePending, twofa.DeviceConfirmed).
// The pending index's predicate (state = 1) depends on them.
const (
	statePending   = "1"
	stateConfirmed = "2"
)

type queries struct {
	// devices
	deleteExpiredOfAccount string
	countDevices           string
	insertDevice           string
	device                 string
	devices                string
	deviceExists           string
	confirmDevice          string
	advanceCounter         string
	setResync              string
	addDeviceAttempt       string
	renameDevice           string
	updateSealed           string
	deleteDevice           string
	countConfirmed         string
	deleteExpired          string

	// throttles
	reserveAttempt string
	throttle       string
	resetThrottle  string

	// recovery codes
	deleteRecovery  string
	insertRecovery  string
	consumeRecovery string
	countRecovery   string

	// schema
	createSchemaVersion string
	schemaVersion       string
	insertSchemaVersion string
}

// delay is ThrottlePolicy.Delay(n) in SQL, over the parameters
// $4 = Free, $5 = Base, $6 = Free+1+DoublingsToMax() and $7 = Max (all
// int64, durations in nanoseconds): 0 while n <= Free, Max from failure
// Free+1+k on, and Base<<(n-Free-1) between, where the shift is below k and
// so cannot overflow (Base·2^k is the first multiple to reach Max).
func delay(n string) string {
	return `CASE WHEN ` + n + ` <= CAST($4 AS BIGINT) THEN 0
		WHEN ` + n + ` >= CAST($6 AS BIGINT) THEN CAST($7 AS BIGINT)
		ELSE CAST($5 AS BIGINT) << CAST(` + n + ` - CAST($4 AS BIGINT) - 1 AS INTEGER) END`
}

func buildQueries(sql func(string) string) queries {
	return queries{
		deleteExpiredOfAccount: sql(`DELETE FROM {{prefix}}devices
			WHERE account = $1 AND state = ` + statePending + ` AND expires_at <= $2`),
		countDevices: sql(`SELECT COUNT(*) FROM {{prefix}}devices WHERE account = $1`),
		insertDevice: sql(`INSERT INTO {{prefix}}devices (` + deviceCols + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`),
		device: sql(`SELECT ` + deviceCols + ` FROM {{prefix}}devices WHERE account = $1 AND id = $2`),
		devices: sql(`SELECT ` + deviceCols + ` FROM {{prefix}}devices WHERE account = $1
			ORDER BY created_at, seq`),
		deviceExists: sql(`SELECT 1 FROM {{prefix}}devices WHERE account = $1 AND id = $2`),
		confirmDevice: sql(`UPDATE {{prefix}}devices
			SET state = ` + stateConfirmed + `, counter = $3, drift = $4, confirmed_at = $5, last_used_at = $5, expires_at = 0
			WHERE account = $1 AND id = $2 AND state = ` + statePending + ` AND expires_at > $5`),
		// The replay guard: $5 is u64(counter), $3 is u64(counter+1).
		advanceCounter: sql(`UPDATE {{prefix}}devices
			SET counter = $3, drift = $4, last_used_at = $6, resync_step = $7, resync_drift = 0
			WHERE account = $1 AND id = $2 AND state = ` + stateConfirmed + ` AND counter <= $5`),
		setResync: sql(`UPDATE {{prefix}}devices SET resync_step = $3, resync_drift = $4
			WHERE account = $1 AND id = $2`),
		addDeviceAttempt: sql(`UPDATE {{prefix}}devices SET attempts = attempts + 1
			WHERE account = $1 AND id = $2 RETURNING attempts`),
		renameDevice: sql(`UPDATE {{prefix}}devices SET label = $3 WHERE account = $1 AND id = $2`),
		updateSealed: sql(`UPDATE {{prefix}}devices SET sealed = $4
			WHERE account = $1 AND id = $2 AND sealed = $3`),
		deleteDevice:   sql(`DELETE FROM {{prefix}}devices WHERE account = $1 AND id = $2`),
		countConfirmed: sql(`SELECT COUNT(*) FROM {{prefix}}devices WHERE account = $1 AND state = ` + stateConfirmed),
		deleteExpired: sql(`DELETE FROM {{prefix}}devices
			WHERE state = ` + statePending + ` AND expires_at <= $1`),

		// One statement: insert failure 1, or count one more failure if
		// the row's Until has passed; RETURNING yields no row when it
		// has not. $3 is now in Unix nanoseconds.
		reserveAttempt: sql(`INSERT INTO {{prefix}}throttles (account, scope, failures, until_ns)
			VALUES ($1, $2, 1, CAST($3 AS BIGINT) + ` + delay("1") + `)
			ON CONFLICT (account, scope) DO UPDATE
			SET failures = {{prefix}}throttles.failures + 1,
				until_ns = CAST($3 AS BIGINT) + ` + delay("{{prefix}}throttles.failures + 1") + `
			WHERE {{prefix}}throttles.until_ns <= CAST($3 AS BIGINT)
			RETURNING failures, until_ns`),
		throttle:      sql(`SELECT failures, until_ns FROM {{prefix}}throttles WHERE account = $1 AND scope = $2`),
		resetThrottle: sql(`DELETE FROM {{prefix}}throttles WHERE account = $1 AND scope = $2`),

		deleteRecovery:  sql(`DELETE FROM {{prefix}}recovery_codes WHERE account = $1`),
		insertRecovery:  sql(`INSERT INTO {{prefix}}recovery_codes (account, digest, created_at) VALUES ($1, $2, $3)`),
		consumeRecovery: sql(`DELETE FROM {{prefix}}recovery_codes WHERE account = $1 AND digest = $2`),
		countRecovery:   sql(`SELECT COUNT(*) FROM {{prefix}}recovery_codes WHERE account = $1`),

		createSchemaVersion: sql(`CREATE TABLE IF NOT EXISTS {{prefix}}schema_version (
			version    INTEGER NOT NULL PRIMARY KEY,
			applied_at BIGINT  NOT NULL
		)`),
		schemaVersion:       sql(`SELECT COALESCE(MAX(version), 0) FROM {{prefix}}schema_version`),
		insertSchemaVersion: sql(`INSERT INTO {{prefix}}schema_version (version, applied_at) VALUES ($1, $2)`),
	}
}
