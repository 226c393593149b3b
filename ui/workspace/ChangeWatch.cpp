#include "ChangeWatch.h"

#include "api/Client.h"
#include "workspace/WorkspaceConnection.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <QCoreApplication>
#include <QPointer>

namespace Kiln::Ui {

ChangeWatch::ChangeWatch(const WorkspaceConnection& connection, std::string path, QObject* parent)
    : QObject(parent)
    , m_client(
          std::make_shared<Api::Client>(connection.url().toStdString(), connection.token().toStdString())) {
    QPointer<ChangeWatch> self(this);
    m_thread = std::thread([self, client = m_client, stop = m_stop, done = m_done, path = std::move(path)] {
        std::int64_t version = -1;
        int failures = 0;
        while (!*stop) {
            try {
                const auto next =
                    client->get(path + "?version=" + std::to_string(version) + "&timeout_ms=20000")
                        .at("version")
                        .get<std::int64_t>();
                failures = 0;
                if (next != version && !*stop)
                    QMetaObject::invokeMethod(
                        qApp,
                        [self] {
                            if (self)
                                Q_EMIT self->changed();
                        },
                        Qt::QueuedConnection);
                version = next;
            } catch (const std::exception&) {
                // Back off, in short steps so that closing the page never waits for the sleep.
                const int pause = std::min(3000, 100 << std::min(failures++, 5));
                for (int slept = 0; slept < pause && !*stop; slept += 50)
                    std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
        }
        *done = true;
    });
}

ChangeWatch::~ChangeWatch() {
    *m_stop = true;
    // (Again until the thread ends: a request it started just after a cancel would wait out its long-poll.)
    while (!*m_done) {
        m_client->cancelPending();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    m_thread.join();
}

} // namespace Kiln::Ui
