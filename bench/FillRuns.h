#pragma once
// Fills a workspace folder's database with `runs` ended runs in three experiments (mnist, cifar, imdb), each
// with two params (learning_rate a number, batch_size text) and the summaries of two metrics (accuracy,
// loss), written straight into its SQLite file in one transaction, as if they had run. For benchmarks on a
// big workspace (bench_runs_table, bench_contention).
#include "store/Database.h"
#include "util/Json.h"

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
#include <tuple>

inline void fillRuns(const std::filesystem::path& dir, int runs) {
    Kiln::Store::Database db(dir / "kiln.db");
    auto lock = db.lock();
    Kiln::Store::Database::Transaction tx(db);
    const double now = 1.7e9;
    for (const char* e : {"mnist", "cifar", "imdb"})
        db.prepare("INSERT INTO experiments(name, created) VALUES(?, ?)").bind(1, e).bind(2, now).exec();
    auto run = db.prepare(
        "INSERT INTO runs(experiment_id, name, status, script, args, snapshot, created, started, ended, "
        "token_hash, params) VALUES(?, ?, 'Completed', 'train.py', '[]', ?, ?, ?, ?, '', ?)");
    auto key = db.prepare("INSERT INTO metric_keys(run_id, name, next_step, count, last_value, last_step, "
                          "min_value, max_value) VALUES(?, ?, 20, 20, ?, 19, ?, ?)");
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<double> u(0, 1);
    const std::string snapshot(64, 'a');
    for (int i = 1; i <= runs; ++i) {
        const double lr = std::exp(-9 + 7 * u(rng));
        const int batch = 16 << static_cast<int>(u(rng) * 5);
        const Kiln::Json params = {{"learning_rate", lr}, {"batch_size", std::to_string(batch)}};
        const double created = now + i;
        run.reset();
        run.bind(1, static_cast<std::int64_t>(i % 3 + 1))
            .bind(2, "run " + std::to_string(i))
            .bind(3, snapshot)
            .bind(4, created)
            .bind(5, created + 1)
            .bind(6, created + 1 + 60 * u(rng))
            .bind(7, params.dump())
            .exec();
        const auto id = db.lastInsertId();
        const double acc = 0.5 + 0.45 * u(rng);
        const double loss = 2 * (1 - acc);
        for (auto [name, last, lo, hi] :
             {std::tuple{"accuracy", acc, 0.1, acc + 0.01}, std::tuple{"loss", loss, loss - 0.01, 2.3}}) {
            key.reset();
            key.bind(1, id).bind(2, name).bind(3, last).bind(4, lo).bind(5, hi).exec();
        }
    }
    tx.commit();
}
