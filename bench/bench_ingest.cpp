// bench_ingest: metric ingest through a real kilnd over loopback HTTP (JSON and binary batches): through
// Kiln's C++ client (cpprestsdk), and through a lean client that pipelines requests on raw sockets (kilnd's
// own capacity, without cpprestsdk's cost per request); run.log() calls per second in a real training
// process (the Python sender batching them), and the latency from run.log() to the point arriving on the
// live feed. Prints one line per figure. History reads: bench_history.
#include "api/Client.h"
#include "util/Fs.h"
#include "workspace/Workspace.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Kiln::Json;

static double seconds(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

static std::string batchBody(int size, int& step) {
    std::string body = R"({"points":[)";
    for (int i = 0; i < size; ++i, ++step) {
        if (i)
            body += ',';
        body += R"({"key":"loss","value":)" + std::to_string(1.0 / (step + 1)) + R"(,"step":)" +
                std::to_string(step) + R"(,"timestamp":1700000000.5})";
    }
    return body + "]}";
}

static std::string binaryBody(int size, int& step) {
    Kiln::Metrics::Columns c;
    for (int i = 0; i < size; ++i, ++step)
        c.add("loss", step, 1700000000.5, 1.0 / (step + 1));
    return Kiln::Metrics::encode(c);
}

// `inFlight` clients (each its own connection) send the batches at once, each waiting for its answers.
static void ingest(const Kiln::Workspace::ServerInfo& info, const std::string& path, int batch, int batches,
                   const char* label, bool binary = false, int inFlight = 1) {
    int step = 0;
    std::vector<std::string> bodies;
    for (int i = 0; i < std::min(batches, 200); ++i)
        bodies.push_back(binary ? binaryBody(batch, step) : batchBody(batch, step));
    const std::string type = binary ? std::string(Kiln::Metrics::kBinaryType) : "application/json";
    std::vector<std::unique_ptr<Kiln::Api::Client>> clients;
    for (int k = 0; k < inFlight; ++k)
        clients.push_back(std::make_unique<Kiln::Api::Client>(info.url, info.token));
    const auto t0 = Clock::now();
    std::vector<std::thread> senders;
    for (int k = 0; k < inFlight; ++k)
        senders.emplace_back([&, k] {
            for (int i = k; i < batches; i += inFlight) {
                auto r = clients[static_cast<std::size_t>(k)]->raw(
                    "POST", path, bodies[static_cast<std::size_t>(i) % bodies.size()], type);
                if (r.first != 200) {
                    std::printf("ingest failed: %d %s\n", r.first, r.second.c_str());
                    std::exit(1);
                }
            }
        });
    for (auto& t : senders)
        t.join();
    const double s = seconds(t0, Clock::now());
    std::printf("ingest %-26s %10.0f points/s  (%d requests, %.0f requests/s, %d in flight)\n", label,
                batch * double(batches) / s, batches, batches / s, inFlight);
}

// `connections` raw sockets, each keeping `depth` requests in flight (HTTP/1.1 pipelining: kilnd answers
// them in order). The bodies carry their steps, so their order among connections does not matter.
static void pipelined(const Kiln::Workspace::ServerInfo& info, const std::string& path, int batch,
                      int batches, const char* label, int connections, int depth) {
    namespace net = boost::asio;
    namespace http = boost::beast::http;
    int step = 0;
    std::vector<std::string> requests;
    for (int i = 0; i < std::min(batches, 200); ++i) {
        const auto body = binaryBody(batch, step);
        requests.push_back("POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                           info.token + "\r\nContent-Type: " + std::string(Kiln::Metrics::kBinaryType) +
                           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
    }
    const auto port = info.url.substr(info.url.rfind(':') + 1);
    const auto t0 = Clock::now();
    std::vector<std::thread> senders;
    for (int k = 0; k < connections; ++k)
        senders.emplace_back([&, k] {
            net::io_context ioc;
            net::ip::tcp::socket socket(ioc);
            net::connect(socket, net::ip::tcp::resolver(ioc).resolve("127.0.0.1", port));
            socket.set_option(net::ip::tcp::no_delay(true));
            boost::beast::flat_buffer buffer;
            const int mine = batches / connections;
            int sent = 0, answered = 0;
            while (answered < mine) {
                for (; sent < mine && sent - answered < depth; ++sent)
                    net::write(
                        socket,
                        net::buffer(
                            requests[static_cast<std::size_t>(sent * connections + k) % requests.size()]));
                http::response<http::string_body> answer;
                http::read(socket, buffer, answer);
                if (answer.result_int() != 200) {
                    std::printf("ingest failed: %d %s\n", answer.result_int(), answer.body().c_str());
                    std::exit(1);
                }
                ++answered;
            }
        });
    for (auto& t : senders)
        t.join();
    const double s = seconds(t0, Clock::now());
    const int total = batches / connections * connections;
    std::printf("ingest %-26s %10.0f points/s  (%d requests, %.0f requests/s, %d connection(s) x %d "
                "pipelined)\n",
                label, batch * double(total) / s, total, total / s, connections, depth);
}

static Kiln::Api::SubmitRequest request(const fs::path& src, std::vector<std::string> args, std::string name,
                                        std::string script = "latency.py") {
    Kiln::Api::SubmitRequest r;
    r.experiment = "bench";
    r.sourceDir = src;
    r.script = script;
    r.args = std::move(args);
    r.name = std::move(name);
    return r;
}

int main() {
    const fs::path ws = fs::temp_directory_path() / ("kiln-bench-" + std::to_string(::getpid()));
    auto info = Kiln::Workspace::ensureServer(ws);
    Kiln::Api::Client c(info.url, info.token);
    std::printf("kilnd %s on %s (workspace %s)\n", c.health()["version"].get<std::string>().c_str(),
                info.url.c_str(), ws.c_str());

    // A run to log into (workspace token; the run itself ends at once).
    const fs::path src = ws / "bench-src";
    fs::create_directories(src);
    for (const char* script : {"latency.py", "logloop.py"})
        fs::copy_file(fs::path(KILN_BENCH_DATA) / script, src / script, fs::copy_options::overwrite_existing);
    auto target = c.submit(request(src, {"0"}, "ingest target"));
    const auto base = "/api/v1/runs/" + std::to_string(target["id"].get<std::int64_t>());

    for (const int inFlight : {1, 4}) {
        ingest(info, base + "/metrics", 1000, 300, "JSON, batches of 1000", false, inFlight);
        ingest(info, base + "/metrics", 10, 3000, "JSON, batches of 10", false, inFlight);
        ingest(info, base + "/metrics", 1, 3000, "JSON, single points", false, inFlight);
        ingest(info, base + "/metrics", 1000, 300, "binary, batches of 1000", true, inFlight);
        ingest(info, base + "/metrics", 10, 3000, "binary, batches of 10", true, inFlight);
        ingest(info, base + "/metrics", 1, 3000, "binary, single points", true, inFlight);
    }
    for (const int connections : {1, 4}) {
        pipelined(info, base + "/metrics", 10, 20000, "binary, batches of 10", connections, 16);
        pipelined(info, base + "/metrics", 1, 20000, "binary, single points", connections, 16);
    }

    // A training script calling run.log() once per point: the Python sender batches what comes while a
    // batch is in flight.
    {
        auto loop = c.submit(request(src, {"200000"}, "log loop", "logloop.py"));
        const auto loopId = loop["id"].get<std::int64_t>();
        for (;;) {
            const auto status = c.run(loopId)["status"].get<std::string>();
            if (status == "Completed" || status == "Failed" || status == "Canceled")
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        double calls = 0, stored = 0;
        for (const auto& k : c.get("/api/v1/runs/" + std::to_string(loopId) + "/metrics")) {
            if (k["key"] == "log_calls_per_s")
                calls = k["last"].get<double>();
            if (k["key"] == "stored_per_s")
                stored = k["last"].get<double>();
        }
        std::printf("python run.log() x 200000      %10.0f calls/s, all stored at %.0f points/s\n", calls,
                    stored);
    }

    // run.log() in a script -> point on the live feed, and submit -> process started.
    const double submitAt = Kiln::Util::nowSeconds();
    auto live = c.submit(request(src, {"6"}, "latency"));
    const auto id = live["id"].get<std::int64_t>();
    std::vector<double> latencies;
    double startedAt = 0;
    c.follow(id, [&](const Json& f) {
        const double now = Kiln::Util::nowSeconds();
        if (f["metrics"].contains("started_at"))
            startedAt = f["metrics"]["started_at"]["values"][0].get<double>();
        if (f["metrics"].contains("sent_at"))
            for (const auto& v : f["metrics"]["sent_at"]["values"])
                latencies.push_back((now - v.get<double>()) * 1000);
        return true;
    });
    std::sort(latencies.begin(), latencies.end());
    if (!latencies.empty())
        std::printf("run.log() -> live feed         p50 %.1f ms, p95 %.1f ms, max %.1f ms (%zu points)\n",
                    latencies[latencies.size() / 2], latencies[latencies.size() * 95 / 100], latencies.back(),
                    latencies.size());
    if (startedAt > 0)
        std::printf(
            "submit -> script running       %.0f ms (snapshot upload, queue, supervisor, python start)\n",
            (startedAt - submitAt) * 1000);

    c.post("/api/v1/server/shutdown", Json::object());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::error_code ec;
    fs::remove_all(ws, ec);
    return 0;
}
