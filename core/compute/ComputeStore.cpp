#include "ComputeStore.h"

#include "store/Database.h"
#include "util/Error.h"
#include "util/Fs.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <thread>

namespace Kiln::Compute {

Json toJson(const Target& t) {
    return {{"name", t.name},   {"type", t.type},   {"config", t.config},
            {"state", t.state}, {"error", t.error}, {"created", t.created}};
}

bool isValidTargetName(const std::string& name) {
    if (name.empty() || name.size() > 64 || name.find("..") != std::string::npos ||
        !std::isalnum(static_cast<unsigned char>(name[0])))
        return false;
    return std::all_of(name.begin(), name.end(),
                       [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
}

static int intField(const Json& body, const char* key, int def, int min, int max) {
    if (!body.contains(key) || body[key].is_null())
        return def;
    if (!body[key].is_number_integer() || body[key].get<std::int64_t>() < min ||
        body[key].get<std::int64_t>() > max)
        throw badRequest(std::string("'") + key + "' must be an integer from " + std::to_string(min) +
                         " to " + std::to_string(max));
    return body[key].get<int>();
}

Target targetFromRequest(const Json& body) {
    Target t;
    if (!body.contains("name") || !body["name"].is_string() ||
        !isValidTargetName(body["name"].get<std::string>()))
        throw badRequest(
            "compute name must be 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit");
    t.name = body["name"].get<std::string>();
    if (body.contains("type") && !body["type"].is_string())
        throw badRequest("compute type must be 'local' or 'slurm'");
    t.type = body.value("type", "local");
    if (t.type != "local" && t.type != "slurm")
        throw badRequest("compute type must be 'local' or 'slurm'");
    const std::set<std::string> known =
        t.type == "slurm" ? std::set<std::string>{"name",       "type",        "max_nodes", "slurm_url",
                                                  "slurm_user", "slurm_token", "partition"}
                          : std::set<std::string>{"name", "type", "max_nodes", "cpus", "memory_mb"};
    for (const auto& [key, value] : body.items())
        if (!known.count(key))
            throw badRequest("a " + t.type + " compute target has no setting '" + key + "'" +
                             (key == "min_nodes" || key == "idle_seconds"
                                  ? std::string(": local nodes are run slots, with nothing to keep warm or "
                                                "scale down")
                                  : std::string()));
    const int cpus = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (t.type == "slurm") {
        auto text = [&](const char* key, bool required) {
            if (!body.contains(key) || body[key].is_null()) {
                if (required)
                    throw badRequest(std::string("a slurm target needs '") + key + "'");
                return std::string();
            }
            if (!body[key].is_string() || body[key].get<std::string>().empty() ||
                body[key].get<std::string>().size() > 4096)
                throw badRequest(std::string("'") + key + "' must be a non-empty string");
            return body[key].get<std::string>();
        };
        t.config = {
            {"slurm_url", text("slurm_url", true)},
            {"slurm_user", body.contains("slurm_user") ? text("slurm_user", true) : std::string("root")},
            {"partition", text("partition", true)},
            {"max_nodes", intField(body, "max_nodes", 4, 1, 10000)},
            {"cpus", 0},
            {"memory_mb", 0}};
        text("slurm_token", true); // stored apart from the config (see ComputeRoutes)
        return t;
    }
    t.config = {{"max_nodes", intField(body, "max_nodes", cpus, 1, 256)},
                {"cpus", intField(body, "cpus", 0, 0, cpus)},
                {"memory_mb", intField(body, "memory_mb", 0, 0, 1 << 24)}};
    return t;
}

std::filesystem::path slurmTokenPath(const std::filesystem::path& workspace, const std::string& target) {
    return workspace / "secrets" / (target + ".slurm-token");
}

static Target read(const Store::Statement& st) {
    Target t;
    t.id = st.int64(0);
    t.name = st.text(1);
    t.type = st.text(2);
    t.config = Json::parse(st.text(3));
    t.config.erase("min_nodes"); // settings of workspaces from before they went (they governed nothing)
    t.config.erase("idle_seconds");
    t.state = st.text(4);
    t.error = st.text(5);
    t.created = st.real(6);
    return t;
}

static constexpr const char* kColumns =
    "SELECT id, name, type, config, state, error, created FROM compute_targets ";

Target ComputeStore::create(const Target& target) {
    auto lock = m_db.lock();
    auto exists = m_db.prepare("SELECT 1 FROM compute_targets WHERE name = ?");
    exists.bind(1, target.name);
    if (exists.step())
        throw conflict("a compute target named '" + target.name + "' exists already");
    m_db.prepare("INSERT INTO compute_targets(name, type, config, state, error, created) VALUES(?,?,?,?,?,?)")
        .bind(1, target.name)
        .bind(2, target.type)
        .bind(3, target.config.dump())
        .bind(4, target.state)
        .bind(5, target.error)
        .bind(6, Util::nowSeconds())
        .exec();
    auto st = m_db.prepare(std::string(kColumns) + "WHERE id = ?");
    st.bind(1, m_db.lastInsertId()).step();
    return read(st);
}

void ComputeStore::update(const Target& t) {
    auto lock = m_db.lock();
    m_db.prepare("UPDATE compute_targets SET config = ?, state = ?, error = ? WHERE name = ?")
        .bind(1, t.config.dump())
        .bind(2, t.state)
        .bind(3, t.error)
        .bind(4, t.name)
        .exec();
}

std::vector<Target> ComputeStore::list() {
    auto lock = m_db.lock();
    auto st = m_db.prepare(std::string(kColumns) + "ORDER BY name");
    std::vector<Target> out;
    while (st.step())
        out.push_back(read(st));
    return out;
}

std::optional<Target> ComputeStore::get(const std::string& name) {
    auto lock = m_db.lock();
    auto st = m_db.prepare(std::string(kColumns) + "WHERE name = ?");
    st.bind(1, name);
    if (!st.step())
        return std::nullopt;
    return read(st);
}

} // namespace Kiln::Compute
