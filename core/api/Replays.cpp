#include "Replays.h"

#include "store/Database.h"
#include "util/Fs.h"
#include "util/Json.h"

#include <iostream>

namespace Kiln::Api {

Replays::Replays(Store::Database& db)
    : m_db(db) {}

Replays::Found Replays::begin(const std::string& key, const std::string& method, const std::string& path,
                              Response& answer) {
    // (Under one lock with finish(): a repeat never falls between a first answer's keeping and its key's
    // release.)
    std::lock_guard g(m_mutex);
    if (m_inFlight.count(key))
        return Found::InFlight;
    {
        auto reader = m_db.reader();
        auto st = reader->prepare("SELECT method, path, status, content_type, headers, body FROM replays "
                                  "WHERE key = ? AND created > ?");
        st.bind(1, key).bind(2, Util::nowSeconds() - kKeepSeconds);
        if (st.step()) {
            if (st.text(0) != method || st.text(1) != path)
                return Found::OtherRequest;
            answer.status = static_cast<int>(st.int64(2));
            answer.contentType = st.text(3);
            const auto headers = Json::parse(st.text(4));
            for (const auto& [k, v] : headers.items())
                answer.headers[k] = v.get<std::string>();
            answer.body = std::string(st.blob(5));
            answer.headers["Idempotent-Replayed"] = "true";
            return Found::Replay;
        }
    }
    m_inFlight.insert(key);
    return Found::No;
}

void Replays::finish(const std::string& key, const std::string& method, const std::string& path,
                     const Response& answer) {
    std::lock_guard g(m_mutex);
    // (A streamed or file answer is a read, never a create: only answers held whole are kept.)
    if (answer.status >= 200 && answer.status < 300 && !answer.next && answer.filePath.empty()) {
        try {
            Json headers = Json::object();
            for (const auto& [k, v] : answer.headers)
                headers[k] = v;
            auto lock = m_db.lock();
            Store::Database::Transaction tx(m_db);
            if (++m_sincePurge >= 256) {
                m_sincePurge = 0;
                m_db.prepare("DELETE FROM replays WHERE created <= ?")
                    .bind(1, Util::nowSeconds() - kKeepSeconds)
                    .exec();
            }
            m_db.prepare(
                    "INSERT OR REPLACE INTO replays(key, method, path, status, content_type, headers, body, "
                    "created) VALUES(?, ?, ?, ?, ?, ?, ?, ?)")
                .bind(1, key)
                .bind(2, method)
                .bind(3, path)
                .bind(4, answer.status)
                .bind(5, answer.contentType)
                .bind(6, headers.dump())
                .bindBlob(7, answer.body.data(), answer.body.size())
                .bind(8, Util::nowSeconds())
                .exec();
            tx.commit();
        } catch (const std::exception& e) { // (a full disk: the answer is still given, only not kept)
            std::cerr << "kilnd: could not keep an answer for its Idempotency-Key: " << e.what() << std::endl;
        }
    }
    m_inFlight.erase(key);
}

} // namespace Kiln::Api
