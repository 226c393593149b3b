#include "Schema.h"

namespace Kiln::Store {

const std::vector<std::string>& schemaMigrations() {
    static const std::vector<std::string> steps = {
        // 1: experiments, runs, metrics, logs, run files.
        R"sql(
CREATE TABLE experiments(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created REAL NOT NULL);
CREATE TABLE runs(
    id INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    status_seq INTEGER NOT NULL DEFAULT 1,
    script TEXT NOT NULL,
    args TEXT NOT NULL,
    source_path TEXT NOT NULL DEFAULT '',
    snapshot TEXT NOT NULL,
    compute TEXT NOT NULL DEFAULT 'local',
    created REAL NOT NULL,
    started REAL,
    ended REAL,
    exit_code INTEGER,
    signal INTEGER,
    error TEXT NOT NULL DEFAULT '',
    token_hash TEXT NOT NULL,
    supervisor_pid INTEGER,
    pgid INTEGER,
    cancel_requested REAL,
    params TEXT NOT NULL DEFAULT '{}',
    tags TEXT NOT NULL DEFAULT '{}');
CREATE INDEX runs_by_experiment ON runs(experiment_id, id);
CREATE INDEX runs_by_status ON runs(status);
CREATE TABLE snapshots(
    hash TEXT PRIMARY KEY,
    manifest TEXT NOT NULL);
CREATE TABLE metric_keys(
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    next_step INTEGER NOT NULL DEFAULT 0,
    count INTEGER NOT NULL DEFAULT 0,
    last_value REAL,
    last_step INTEGER,
    min_value REAL,
    max_value REAL,
    UNIQUE(run_id, name));
CREATE TABLE metrics(
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL,
    key_id INTEGER NOT NULL,
    step INTEGER NOT NULL,
    ts REAL NOT NULL,
    value REAL);
CREATE INDEX metrics_by_key ON metrics(run_id, key_id, id);
CREATE TABLE logs(
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL,
    stream TEXT NOT NULL,
    line TEXT NOT NULL,
    ts REAL NOT NULL);
CREATE INDEX logs_by_run ON logs(run_id, id);
CREATE TABLE log_offsets(
    run_id INTEGER NOT NULL,
    stream TEXT NOT NULL,
    offset INTEGER NOT NULL,
    PRIMARY KEY(run_id, stream));
CREATE TABLE run_files(
    run_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    blob TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY(run_id, path));
)sql",
        // 2: datasets, their versions and files, and which runs used which version.
        R"sql(
CREATE TABLE datasets(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created REAL NOT NULL);
CREATE TABLE dataset_versions(
    id INTEGER PRIMARY KEY,
    dataset_id INTEGER NOT NULL REFERENCES datasets(id),
    version INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '{}',
    content_hash TEXT NOT NULL,
    file_count INTEGER NOT NULL,
    total_size INTEGER NOT NULL,
    created REAL NOT NULL,
    UNIQUE(dataset_id, version));
CREATE TABLE dataset_files(
    version_id INTEGER NOT NULL REFERENCES dataset_versions(id),
    path TEXT NOT NULL,
    blob TEXT NOT NULL,
    size INTEGER NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    PRIMARY KEY(version_id, path));
CREATE TABLE run_datasets(
    run_id INTEGER NOT NULL REFERENCES runs(id),
    version_id INTEGER NOT NULL REFERENCES dataset_versions(id),
    mode TEXT NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY(run_id, version_id, mode));
)sql",
        // 3: environments and which version a run used.
        R"sql(
CREATE TABLE environments(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created REAL NOT NULL);
CREATE TABLE environment_versions(
    id INTEGER PRIMARY KEY,
    environment_id INTEGER NOT NULL REFERENCES environments(id),
    version INTEGER NOT NULL,
    spec TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    created REAL NOT NULL,
    UNIQUE(environment_id, version));
CREATE TABLE run_environments(
    run_id INTEGER PRIMARY KEY REFERENCES runs(id),
    version_id INTEGER NOT NULL REFERENCES environment_versions(id));
)sql",
        // 4: compute targets, and the node a run ran on.
        R"sql(
CREATE TABLE compute_targets(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    config TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL);
ALTER TABLE runs ADD COLUMN node TEXT NOT NULL DEFAULT '';
)sql",
        // 5: when a run left the queue for a node (Preparing began), and its id on an external scheduler.
        R"sql(
ALTER TABLE runs ADD COLUMN dispatched REAL;
ALTER TABLE runs ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
)sql",
        // 6: registered models: named versions of a run's files, with the lineage frozen at registration.
        R"sql(
CREATE TABLE models(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created REAL NOT NULL);
CREATE TABLE model_versions(
    id INTEGER PRIMARY KEY,
    model_id INTEGER NOT NULL REFERENCES models(id),
    version INTEGER NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '{}',
    framework TEXT NOT NULL DEFAULT '',
    run_id INTEGER REFERENCES runs(id),
    source_path TEXT NOT NULL,
    lineage TEXT NOT NULL DEFAULT '{}',
    file_count INTEGER NOT NULL,
    total_size INTEGER NOT NULL,
    archived INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    UNIQUE(model_id, version));
CREATE INDEX model_versions_by_run ON model_versions(run_id);
CREATE TABLE model_files(
    version_id INTEGER NOT NULL REFERENCES model_versions(id),
    path TEXT NOT NULL,
    blob TEXT NOT NULL,
    size INTEGER NOT NULL,
    PRIMARY KEY(version_id, path));
)sql",
        // 7: who asked for a run's cancel; the metric batches already stored, by client and sequence, so a
        // batch sent again after a lost reply is acknowledged without being stored twice.
        R"sql(
ALTER TABLE runs ADD COLUMN cancel_by TEXT NOT NULL DEFAULT '';
CREATE TABLE metric_batches(
    run_id INTEGER NOT NULL,
    client TEXT NOT NULL,
    seq INTEGER NOT NULL,
    points INTEGER NOT NULL,
    PRIMARY KEY(run_id, client, seq)) WITHOUT ROWID;
)sql",
        // 8: long operations the server runs for clients (dataset registrations, environment builds,
        // provisioning), so that a restarted kilnd resumes them or says they ended instead of forgetting.
        R"sql(
CREATE TABLE jobs(
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    request TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    result TEXT NOT NULL DEFAULT 'null',
    created REAL NOT NULL,
    ended REAL);
)sql",
        // 9: hyperparameter sweeps; their trials are runs that name their sweep and the sampler's draw.
        R"sql(
CREATE TABLE sweeps(
    id INTEGER PRIMARY KEY,
    experiment TEXT NOT NULL,
    spec TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    cancel_by TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    ended REAL);
ALTER TABLE runs ADD COLUMN sweep_id INTEGER;
ALTER TABLE runs ADD COLUMN sweep_draw INTEGER;
CREATE UNIQUE INDEX runs_by_sweep ON runs(sweep_id, sweep_draw) WHERE sweep_id IS NOT NULL;
)sql",
        // 10: managing runs and experiments: starred, archived (hidden unless asked for) and a Markdown note
        // per run; archived experiments. Indexes for the runs table's queries: runs of an experiment not
        // archived,
        // newest first; metrics by name and value, for filters on them.
        R"sql(
ALTER TABLE runs ADD COLUMN starred INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE experiments ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
CREATE INDEX metric_keys_by_value ON metric_keys(name, last_value);
CREATE INDEX runs_listed ON runs(experiment_id, archived, id);
)sql",
        // 11: how often a run's supervisor records its system metrics (sys/...), in seconds; 0 records none.
        R"sql(
ALTER TABLE runs ADD COLUMN system_interval REAL NOT NULL DEFAULT 1;
)sql",
        // 12: metric points in blocks: up to 512 points of one key per row, as little-endian columns (ids,
        // steps,
        // timestamps, values), with a summary (first, last, minimum and maximum point) that level-of-detail
        // reads
        // use instead of the points. MetricStore moves the rows of the `metrics` table into blocks and drops
        // it.
        // `ordered` says a key's steps never went down (its blocks are then in step order).
        R"sql(
CREATE TABLE metric_blocks(
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL,
    key_id INTEGER NOT NULL,
    n INTEGER NOT NULL,
    first_id INTEGER NOT NULL,
    last_id INTEGER NOT NULL,
    first_step INTEGER NOT NULL,
    first_ts REAL NOT NULL,
    first_value REAL NOT NULL,
    last_step INTEGER NOT NULL,
    last_ts REAL NOT NULL,
    last_value REAL NOT NULL,
    min_at INTEGER NOT NULL,
    min_step INTEGER NOT NULL,
    min_ts REAL NOT NULL,
    min_value REAL NOT NULL,
    max_at INTEGER NOT NULL,
    max_step INTEGER NOT NULL,
    max_ts REAL NOT NULL,
    max_value REAL NOT NULL,
    ids BLOB NOT NULL,
    steps BLOB NOT NULL,
    ts BLOB NOT NULL,
    vals BLOB NOT NULL);
CREATE INDEX metric_blocks_by_key ON metric_blocks(key_id, id);
CREATE INDEX metric_blocks_by_cursor ON metric_blocks(run_id, last_id);
ALTER TABLE metric_keys ADD COLUMN ordered INTEGER NOT NULL DEFAULT 1;
)sql",
        // A stored batch's digest of its points (0: stored before digests were kept), so that a batch sent
        // again under the same (client, seq) with other points is refused, not acknowledged and dropped.
        R"sql(
ALTER TABLE metric_batches ADD COLUMN digest INTEGER NOT NULL DEFAULT 0;
)sql",
        // Answers kept a day for requests sent with an Idempotency-Key (api/Replays), by the caller's key.
        R"sql(
CREATE TABLE replays(
    key TEXT PRIMARY KEY,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    created REAL NOT NULL);
CREATE INDEX replays_by_age ON replays(created);
)sql",
    };
    return steps;
}

} // namespace Kiln::Store
