package sqlstore

// The statements, written once with PostgreSQL placeholders ($1) and
// {{prefix}}. New adapts them to the store's dialect and prefix (Store.sql)
// once, into the Store's queries; no statement is rebuilt per call. Both dialects accept
// the same text for everything here: upsert with RETURNING, UPDATE ...
// RETURNING, CAST(... AS BIGINT), and << on 64-bit integers.

// deviceCols are the columns of a device, in the order scanDevice reads
// them and insertDevice writes them.
const deviceCols = `id, account, label, otp_type, algorithm, digits, period_ns, sealed, state,
	counter, drift, resync_step, resync_drift, attempts,
	created_at, expires_at, confirmed_at, last_used_at, mac`

// appCols are the columns of an app password, in the order scanApp reads
// them and InsertAppPassword writes them.
const appCols = `account, id, label, digest, created_at, last_used_at`

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
	reserveDeviceAttempt   string
	deviceAttempts         string
	renameDevice           string
	updateSealed           string
	updateDeviceMAC        string
	deleteDevice           string
	deletePendingDevice    string
	countConfirmed         string
	deleteExpired          string
	devicesAfter           string

	// throttles
	reserveAttempt string
	throttle       string
	// throttleForUpdate is throttle, locking the row in PostgreSQL
	// (AcceptCode); SQLite's BEGIN IMMEDIATE already holds the lock.
	throttleForUpdate string
	releaseEmpty      string
	releaseSuccess    string
	refund            string
	resetThrottle     string
	deleteIdle        string

	// recovery codes
	deleteRecovery  string
	insertRecovery  string
	consumeRecovery string
	countRecovery   string

	// app passwords
	appDuplicate string
	appCount     string
	appInsert    string
	appByDigest  string
	appList      string
	appTouch     string
	appExists    string
	appAny       string
	appDelete    string
	appDeleteAll string

	// phones, challenges, trusted browsers and pending sign-ins
	// (phones.go, browsers.go, signins.go)
	phoneQueries
	browserQueries
	signinQueries

	// PostgreSQL's per-account advisory lock (Store.inTx)
	advisoryLock string

	// the lifecycle lock's leases (locks.go)
	acquireLock string
	releaseLock string

	// schema
	createSchemaVersion string
	schemaVersion       string
	insertSchemaVersion string
}

// delay is ThrottlePolicy.Delay(n) in SQL, in nanoseconds, over the
// parameters $5 = Free, $6 = Base, $7 = Free+1+DoublingsToMax() and
// $8 = Max (all int64, durations in nanoseconds): 0 while n <= Free, Max
// from failure Free+1+k on, and Base<<(n-Free-1) between, where the shift
// is below k and so cannot overflow (Base·2^k is the first multiple of
// Base to reach Max).
func delay(n string) string {
	return `(CASE WHEN ` + n + ` <= CAST($5 AS BIGINT) THEN 0
		WHEN ` + n + ` >= CAST($7 AS BIGINT) THEN CAST($8 AS BIGINT)
		ELSE CAST($6 AS BIGINT) << CAST(` + n + ` - CAST($5 AS BIGINT) - 1 AS INTEGER) END)`
}

// until is now + delay(n), with now = $3 in Unix nanoseconds, saturated
// at $9 = math.MaxInt64 (the last time a store keeps): $4 is the room
// above now, math.MaxInt64 - max(now, 0), so no intermediate leaves int64.
func until(n string) string {
	d := delay(n)
	return `(CASE WHEN ` + d + ` > CAST($4 AS BIGINT) THEN CAST($9 AS BIGINT)
		ELSE CAST($3 AS BIGINT) + ` + d + ` END)`
}

func buildQueries(sql func(string) string) queries {
	insertUntil := until("1")
	updateUntil := until("{{prefix}}throttles.failures + 1")
	return queries{
		deleteExpiredOfAccount: sql(`DELETE FROM {{prefix}}devices
			WHERE account = $1 AND state = ` + statePending + ` AND expires_at <= $2`),
		countDevices: sql(`SELECT COUNT(*) FROM {{prefix}}devices WHERE account = $1`),
		insertDevice: sql(`INSERT INTO {{prefix}}devices (` + deviceCols + `)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
				$15, $16, $17, $18, $19)`),
		device: sql(`SELECT ` + deviceCols + ` FROM {{prefix}}devices WHERE account = $1 AND id = $2`),
		devices: sql(`SELECT ` + deviceCols + ` FROM {{prefix}}devices WHERE account = $1
			ORDER BY created_at, seq`),
		deviceExists: sql(`SELECT 1 FROM {{prefix}}devices WHERE account = $1 AND id = $2`),
		// $3 counter, $4 drift, $5 at, $6 maxAttempts, $7 noTime, $8 the
		// old MAC, $9 the new one.
		confirmDevice: sql(`UPDATE {{prefix}}devices
			SET state = ` + stateConfirmed + `, counter = $3, drift = $4,
				confirmed_at = $5, last_used_at = $5, expires_at = $7, mac = $9
			WHERE account = $1 AND id = $2 AND state = ` + statePending + `
				AND expires_at > $5 AND attempts <= $6 AND mac = $8`),
		// The replay guard (AcceptCode): $5 is u64(counter), $3 is
		// u64(counter+1), $6 the time of use, $7 is u64(0) (no resync
		// record). Counters are compared through an order-preserving map
		// of uint64 onto int64, so the full range works on both dialects.
		// $8 is the MAC the caller verified, $9 the MAC of the new state:
		// the MAC is the row's version.
		advanceCounter: sql(`UPDATE {{prefix}}devices
			SET counter = $3, drift = $4, last_used_at = $6,
				resync_step = $7, resync_drift = 0, mac = $9
			WHERE account = $1 AND id = $2 AND state = ` + stateConfirmed + ` AND counter <= $5
				AND mac = $8`),
		setResync: sql(`UPDATE {{prefix}}devices SET resync_step = $3, resync_drift = $4, mac = $6
			WHERE account = $1 AND id = $2 AND mac = $5`),
		// $3 limit, $4 the old MAC, $5 the new one; no row when the
		// reservation is refused.
		reserveDeviceAttempt: sql(`UPDATE {{prefix}}devices SET attempts = attempts + 1, mac = $5
			WHERE account = $1 AND id = $2 AND state = ` + statePending + ` AND attempts < $3
				AND mac = $4
			RETURNING attempts`),
		updateDeviceMAC: sql(`UPDATE {{prefix}}devices SET mac = $4
			WHERE account = $1 AND id = $2 AND mac = $3`),
		deviceAttempts: sql(`SELECT attempts FROM {{prefix}}devices WHERE account = $1 AND id = $2`),
		renameDevice:   sql(`UPDATE {{prefix}}devices SET label = $3 WHERE account = $1 AND id = $2`),
		updateSealed: sql(`UPDATE {{prefix}}devices SET sealed = $4
			WHERE account = $1 AND id = $2 AND sealed = $3`),
		deleteDevice: sql(`DELETE FROM {{prefix}}devices WHERE account = $1 AND id = $2
			RETURNING ` + deviceCols),
		deletePendingDevice: sql(`DELETE FROM {{prefix}}devices
			WHERE account = $1 AND id = $2 AND state = ` + statePending),
		countConfirmed: sql(`SELECT COUNT(*) FROM {{prefix}}devices WHERE account = $1 AND state = ` + stateConfirmed),
		deleteExpired: sql(`DELETE FROM {{prefix}}devices
			WHERE state = ` + statePending + ` AND expires_at <= $1`),
		// A page of every device in byte order of (account, id), after
		// ($1, $2); $3 the page size. devices_page_idx serves it.
		devicesAfter: sql(`SELECT ` + deviceCols + ` FROM {{prefix}}devices
			WHERE (account{{bytes}}, id{{bytes}}) > ($1, $2)
			ORDER BY account{{bytes}}, id{{bytes}} LIMIT $3`),

		// One statement: insert failure 1, or count one more failure
		// unless the back-off runs (failures past Free and until_at after
		// now = $3) or the budget is spent (forgiven_at after $11 = now +
		// (Budget-1)·Refill); RETURNING yields no row when refused. The
		// budget: $10 is Refill ($10 = 0: no budget), $12 is now + Refill
		// (noTime without a budget), $13 is math.MaxInt64 - Refill, past
		// which forgiven_at + Refill saturates at $9 = math.MaxInt64.
		// forgiven_at is noTime while nothing is counted against a budget.
		reserveAttempt: sql(`INSERT INTO {{prefix}}throttles (account, scope, failures, until_at, forgiven_at)
			VALUES ($1, $2, 1, ` + insertUntil + `, CAST($12 AS BIGINT))
			ON CONFLICT (account, scope) DO UPDATE
			SET failures = {{prefix}}throttles.failures + 1,
				until_at = ` + updateUntil + `,
				forgiven_at = CASE WHEN CAST($10 AS BIGINT) = 0 THEN {{prefix}}throttles.forgiven_at
					WHEN {{prefix}}throttles.forgiven_at <= CAST($3 AS BIGINT) THEN CAST($12 AS BIGINT)
					WHEN {{prefix}}throttles.forgiven_at > CAST($13 AS BIGINT) THEN CAST($9 AS BIGINT)
					ELSE {{prefix}}throttles.forgiven_at + CAST($10 AS BIGINT) END
			WHERE ({{prefix}}throttles.failures <= CAST($5 AS BIGINT)
					OR {{prefix}}throttles.until_at <= CAST($3 AS BIGINT))
				AND {{prefix}}throttles.forgiven_at <= CAST($11 AS BIGINT)
			RETURNING failures, until_at, forgiven_at`),
		throttle: sql(`SELECT failures, until_at, forgiven_at FROM {{prefix}}throttles
			WHERE account = $1 AND scope = $2`),
		throttleForUpdate: sql(`SELECT failures, until_at, forgiven_at FROM {{prefix}}throttles
			WHERE account = $1 AND scope = $2{{forUpdate}}`),
		// A success: the back-off cleared, and $3 given back to the
		// budget; or, without a success, only the latter; or a success
		// whose row holds no budget: the row deleted. $4 is noTime.
		releaseSuccess: sql(`UPDATE {{prefix}}throttles
			SET failures = 0, until_at = CAST($4 AS BIGINT),
				forgiven_at = CASE WHEN forgiven_at = CAST($4 AS BIGINT) THEN forgiven_at ELSE forgiven_at - CAST($3 AS BIGINT) END
			WHERE account = $1 AND scope = $2`),
		refund: sql(`UPDATE {{prefix}}throttles
			SET forgiven_at = CASE WHEN forgiven_at = CAST($4 AS BIGINT) THEN forgiven_at ELSE forgiven_at - CAST($3 AS BIGINT) END
			WHERE account = $1 AND scope = $2`),
		releaseEmpty:  sql(`DELETE FROM {{prefix}}throttles WHERE account = $1 AND scope = $2 AND forgiven_at = $3`),
		resetThrottle: sql(`DELETE FROM {{prefix}}throttles WHERE account = $1 AND scope = $2`),
		// Rows that act as none: no failure, no back-off, the budget whole
		// at $1 (noTime, the zero Time, is below every now).
		deleteIdle: sql(`DELETE FROM {{prefix}}throttles
			WHERE failures = 0 AND until_at <= $1 AND forgiven_at <= $1`),

		// $3 now, $4 the lease's end; no row when another holder's lease
		// still runs.
		acquireLock: sql(`INSERT INTO {{prefix}}locks (account, holder, until_at) VALUES ($1, $2, $4)
			ON CONFLICT (account) DO UPDATE SET holder = $2, until_at = $4
			WHERE {{prefix}}locks.holder = $2 OR {{prefix}}locks.until_at <= $3
			RETURNING holder`),
		releaseLock: sql(`DELETE FROM {{prefix}}locks WHERE account = $1 AND holder = $2`),

		deleteRecovery: sql(`DELETE FROM {{prefix}}recovery_codes WHERE account = $1`),
		insertRecovery: sql(`INSERT INTO {{prefix}}recovery_codes (account, digest, created_at)
			VALUES ($1, $2, $3)`),
		consumeRecovery: sql(`DELETE FROM {{prefix}}recovery_codes WHERE account = $1 AND digest = $2`),
		countRecovery:   sql(`SELECT COUNT(*) FROM {{prefix}}recovery_codes WHERE account = $1`),

		appDuplicate: sql(`SELECT 1 FROM {{prefix}}app_passwords
			WHERE account = $1 AND (id = $2 OR label = $3 OR digest = $4)`),
		appCount: sql(`SELECT COUNT(*) FROM {{prefix}}app_passwords WHERE account = $1`),
		appInsert: sql(`INSERT INTO {{prefix}}app_passwords (` + appCols + `)
			VALUES ($1, $2, $3, $4, $5, $6)`),
		// One probe of app_passwords_digest_idx, the unique (account,
		// digest) index. With the equalities alone, PostgreSQL costs it
		// the same as app_passwords_account_idx (account, created_at,
		// seq) plus a filter on digest whenever its statistics expect at
		// most one row for the account (an account it has seen with one
		// password, or none), and may take the latter, which reads every
		// password of the account. The row comparison, true whenever the
		// equalities are, is an index condition only on an index that
		// leads with (account, digest), so it settles the choice.
		appByDigest: sql(`SELECT ` + appCols + ` FROM {{prefix}}app_passwords
			WHERE account = $1 AND digest = $2 AND (account, digest) >= ($1, $2)`),
		appList: sql(`SELECT ` + appCols + ` FROM {{prefix}}app_passwords WHERE account = $1
			ORDER BY created_at, seq`),
		// $3 is the time of use; LastUsedAt never moves back.
		appTouch: sql(`UPDATE {{prefix}}app_passwords SET last_used_at = $3
			WHERE account = $1 AND id = $2 AND last_used_at < $3`),
		appExists:    sql(`SELECT 1 FROM {{prefix}}app_passwords WHERE account = $1 AND id = $2`),
		appAny:       sql(`SELECT EXISTS (SELECT 1 FROM {{prefix}}app_passwords WHERE account = $1)`),
		appDelete:    sql(`DELETE FROM {{prefix}}app_passwords WHERE account = $1 AND id = $2`),
		appDeleteAll: sql(`DELETE FROM {{prefix}}app_passwords WHERE account = $1`),

		phoneQueries:   buildPhoneQueries(sql),
		browserQueries: buildBrowserQueries(sql),
		signinQueries:  buildSignInQueries(sql),

		advisoryLock: sql(`SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))`),

		createSchemaVersion: sql(`CREATE TABLE IF NOT EXISTS {{prefix}}schema_version (
			version    INTEGER NOT NULL PRIMARY KEY,
			applied_at BIGINT  NOT NULL
		)`),
		schemaVersion:       sql(`SELECT COALESCE(MAX(version), 0) FROM {{prefix}}schema_version`),
		insertSchemaVersion: sql(`INSERT INTO {{prefix}}schema_version (version, applied_at) VALUES ($1, $2)`),
	}
}
