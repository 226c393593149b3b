#include "Download.h"

#include "api/Client.h"
#include "api/Http.h"
#include "util/Crypto.h"
#include "util/Fs.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;

namespace Kiln::Transfer {

using Api::ClientError;

std::optional<Format> formatFromString(std::string_view s) {
    if (s == "folder" || s.empty())
        return Format::Folder;
    if (s == "zip")
        return Format::Zip;
    if (s == "tar.gz" || s == "tgz")
        return Format::TarGz;
    return std::nullopt;
}

std::string extension(Format f) {
    return f == Format::Zip ? ".zip" : f == Format::TarGz ? ".tar.gz" : "";
}

std::string fileUrl(const std::string& base, const std::string& path) {
    std::string url = base;
    for (const auto& part : Api::splitPath(path))
        url += "/" + Api::percentEncode(part);
    return url;
}

std::vector<RemoteFile> remoteFiles(const Json& listing, const std::string& base) {
    std::vector<RemoteFile> files;
    for (const auto& f : listing) {
        const auto path = f["path"].get<std::string>();
        files.push_back(
            {path, f["sha256"].get<std::string>(), f["size"].get<std::int64_t>(), fileUrl(base, path)});
    }
    return files;
}

namespace {

// Where verified bytes go. A folder takes files on several lanes at once (one file open per lane, each lane
// writing from its own thread); an archive takes one lane, its entries one after another.
class Sink {
public:
    virtual ~Sink() = default;
    virtual void begin(std::size_t lane, const RemoteFile& f) = 0;
    virtual void write(std::size_t lane, const std::uint8_t* data, std::size_t n) = 0;
    virtual void end(std::size_t lane) = 0;
    virtual void commit() = 0; // everything verified: move it into place
    virtual void discard() noexcept = 0;
};

class FolderSink final : public Sink {
public:
    FolderSink(fs::path dest, std::size_t lanes)
        : m_dest(std::move(dest))
        , m_lanes(lanes) {
        m_created = !fs::exists(m_dest);
        fs::create_directories(m_dest);
        removeStale();
        m_staging = m_dest / (std::string(kStaging) + Util::randomHex(6) + "-" + owner(::getpid()));
        fs::create_directory(m_staging);
    }
    ~FolderSink() override { closeFiles(); }
    void begin(std::size_t lane, const RemoteFile& f) override {
        const auto path = m_staging / f.path;
        auto& l = m_lanes.at(lane);
        {
            std::lock_guard lock(m_mutex); // (lanes may create the same parent folder)
            fs::create_directories(path.parent_path());
            m_paths.push_back(f.path);
        }
        l.file = std::fopen(path.c_str(), "wb");
        if (!l.file)
            throw ClientError(0, "cannot write " + path.string());
        l.path = f.path;
    }
    void write(std::size_t lane, const std::uint8_t* data, std::size_t n) override {
        auto& l = m_lanes.at(lane);
        if (std::fwrite(data, 1, n, l.file) != n)
            throw ClientError(0, "cannot write " + l.path + " (disk full?)");
    }
    void end(std::size_t lane) override {
        auto& l = m_lanes.at(lane);
        if (closeFile(l) != 0)
            throw ClientError(0, "cannot write " + l.path + " (disk full?)");
    }
    void commit() override {
        for (const auto& p : m_paths) {
            const auto target = m_dest / p;
            fs::create_directories(target.parent_path());
            fs::rename(m_staging / p, target);
        }
        Util::removeTree(m_staging);
    }
    void discard() noexcept override {
        closeFiles();
        Util::removeTree(m_staging);
        std::error_code ec;
        if (m_created)
            fs::remove(m_dest, ec); // only if still empty
    }

private:
    static constexpr std::string_view kStaging = ".kiln-download-"; // <hex>-<pid>@<host>
    static std::string owner(long pid) {
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        return std::to_string(pid) + "@" + host;
    }
    // What a download killed outright (kill -9, a second Ctrl-C, a power cut) left here: staging folders
    // of this machine's processes that no longer exist.
    void removeStale() noexcept {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(m_dest, ec)) {
            const auto name = entry.path().filename().string();
            // (the host name may hold '-' itself: the pid is what sits between the '-' and the '@' before it)
            const auto at = name.find('@', kStaging.size());
            const auto dash = at == std::string::npos ? at : name.rfind('-', at);
            if (!name.starts_with(kStaging) || dash == std::string::npos || dash < kStaging.size())
                continue;
            long pid = 0;
            const auto [end, err] = std::from_chars(name.data() + dash + 1, name.data() + at, pid);
            if (err != std::errc() || end != name.data() + at || pid <= 0 ||
                owner(pid) != name.substr(dash + 1))
                continue;
            if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
                Util::removeTree(entry.path());
        }
    }
    struct Lane {
        std::FILE* file = nullptr;
        std::string path;
    };
    static int closeFile(Lane& l) {
        int rc = 0;
        if (l.file)
            rc = std::fclose(l.file);
        l.file = nullptr;
        return rc;
    }
    void closeFiles() {
        for (auto& l : m_lanes)
            closeFile(l);
    }
    fs::path m_dest, m_staging;
    bool m_created = false;
    std::vector<Lane> m_lanes;
    std::mutex m_mutex;
    std::vector<std::string> m_paths;
};

class ArchiveSink final : public Sink {
public:
    ArchiveSink(fs::path dest, Format format, std::string root, std::int64_t totalBytes)
        : m_dest(std::move(dest))
        , m_root(std::move(root)) {
        m_part = m_dest;
        m_part += ".kiln-part";
        if (!m_dest.parent_path().empty())
            fs::create_directories(m_dest.parent_path());
        m_a = archive_write_new();
        if (format == Format::Zip) {
            archive_write_set_format_zip(m_a);
            // Model weights barely compress and deflate would cut the speed tenfold: a big download is
            // stored (the option is per archive in libarchive), a small one deflated.
            if (totalBytes > (64 << 20))
                archive_write_set_format_option(m_a, "zip", "compression", "store");
            else
                archive_write_set_format_option(m_a, "zip", "compression-level", "1");
        } else {
            archive_write_set_format_pax_restricted(m_a);
            archive_write_add_filter_gzip(m_a);
            archive_write_set_filter_option(m_a, "gzip", "compression-level", "1");
        }
        if (archive_write_open_filename(m_a, m_part.c_str()) != ARCHIVE_OK)
            fail("cannot create " + m_part.string());
    }
    ~ArchiveSink() override {
        if (m_a)
            archive_write_free(m_a);
    }
    void begin(std::size_t, const RemoteFile& f) override {
        auto* e = archive_entry_new();
        const auto name = m_root.empty() ? f.path : m_root + "/" + f.path;
        archive_entry_set_pathname(e, name.c_str());
        archive_entry_set_size(e, f.size);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_mtime(e, static_cast<time_t>(Util::nowSeconds()), 0);
        const int rc = archive_write_header(m_a, e);
        archive_entry_free(e);
        if (rc != ARCHIVE_OK)
            fail("cannot add " + f.path + " to the archive");
    }
    void write(std::size_t, const std::uint8_t* data, std::size_t n) override {
        if (archive_write_data(m_a, data, n) < 0)
            fail("cannot write the archive (disk full?)");
    }
    void end(std::size_t) override {
        if (archive_write_finish_entry(m_a) != ARCHIVE_OK)
            fail("cannot write the archive (disk full?)");
    }
    void commit() override {
        if (archive_write_close(m_a) != ARCHIVE_OK)
            fail("cannot finish the archive (disk full?)");
        fs::rename(m_part, m_dest);
    }
    void discard() noexcept override {
        if (m_a) {
            // Closed normally (a trailer into the part file, removed below): archive_write_fail() would
            // skip the close that frees the zip writer's deflate stream, which LeakSanitizer reports.
            archive_write_free(m_a);
            m_a = nullptr;
        }
        std::error_code ec;
        fs::remove(m_part, ec);
    }

private:
    [[noreturn]] void fail(const std::string& what) {
        throw ClientError(0, what + (m_a && archive_error_string(m_a)
                                         ? std::string(": ") + archive_error_string(m_a)
                                         : std::string()));
    }
    fs::path m_dest, m_part;
    std::string m_root;
    archive* m_a = nullptr;
};

// Refuses file names that would leave the destination, and duplicates, before anything is written.
void checkNames(const std::vector<RemoteFile>& files) {
    std::set<std::string> seen;
    for (const auto& f : files) {
        auto safe = Util::safeRelativePath(f.path);
        if (!safe || *safe != f.path || f.path.empty())
            throw ClientError(0, "refusing a file name from the server that would leave the destination: " +
                                     f.path.substr(0, 200));
        if (!seen.insert(f.path).second)
            throw ClientError(0, "the server listed " + f.path.substr(0, 200) + " twice");
        if (!Util::isSha256Hex(f.sha256) || f.size < 0)
            throw ClientError(0, "the server sent no valid checksum for " + f.path.substr(0, 200));
    }
}

} // namespace

namespace {

// The bytes of one range of one file, fetched ahead of the hasher and the writer.
struct Piece {
    std::unique_ptr<std::uint8_t[]> data; // (filled by cpprestsdk: no zeroing first)
    std::size_t size = 0;
    bool ready = false;
    bool hashed = false;
    bool written = false;
};

// Reports a lane's progress: bytes hashed of file `f` (0 as it starts), `verified` once its hash matched.
using Progressed =
    std::function<bool(std::size_t lane, std::int64_t bytes, const RemoteFile& f, bool verified)>;

// One lane of a download, in three stages running at once: `connections` fetchers, each with its own range
// request in flight, fill pieces (ranges of `window` bytes, in file order); the thread calling run() hashes
// them in order and reports progress; a writer thread hands them in order to the sink. At most `ahead` pieces
// are held.
class Pipeline {
public:
    Pipeline(Api::Client& client, const std::vector<RemoteFile>& files, const Options& options, Sink& sink,
             std::size_t lane)
        : m_client(client)
        , m_files(files)
        , m_options(options)
        , m_sink(sink)
        , m_lane(lane) {
        for (std::size_t f = 0; f < files.size(); ++f)
            for (std::uint64_t at = 0; at < static_cast<std::uint64_t>(files[f].size); at += options.window)
                m_ranges.push_back(
                    {f, at, std::min(at + options.window, static_cast<std::uint64_t>(files[f].size))});
    }

    void run(const Progressed& progressed) {
        const int fetchers =
            std::max(1, std::min<int>(m_options.connections, static_cast<int>(m_ranges.size())));
        std::vector<std::thread> threads;
        for (int i = 0; i < fetchers; ++i)
            threads.emplace_back([this] { guarded([this] { fetch(); }); });
        threads.emplace_back([this] { guarded([this] { write(); }); });
        guarded([&] { hash(progressed); });
        stopAll();
        for (auto& t : threads)
            t.join();
        if (m_failure)
            std::rethrow_exception(m_failure);
        if (m_aborted)
            throw ClientError(0, "download canceled");
    }
    // From another thread (another lane failed): ends this lane's stages; run() then throws.
    void abort() {
        m_aborted = true;
        stopAll();
        m_client.cancelPending();
    }
    int resumes() const { return m_resumes; }

private:
    struct Range {
        std::size_t file;
        std::uint64_t first, end; // [first, end)
    };

    void guarded(const std::function<void()>& stage) {
        try {
            stage();
        } catch (...) {
            {
                std::lock_guard lock(m_mutex);
                if (!m_failure)
                    m_failure = std::current_exception();
                m_stop = true;
                m_changed.notify_all();
            }
            m_client.cancelPending(); // ranges in flight end now, not when their 8 MB have come
        }
    }
    void stopAll() {
        std::lock_guard lock(m_mutex);
        m_stop = true;
        m_changed.notify_all();
    }
    // Waits for piece `i` to be fetched; nullptr once the download is stopping.
    Piece* await(std::size_t i) {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [&] { return m_stop || (m_pieces.count(i) && m_pieces[i].ready); });
        return m_stop ? nullptr : &m_pieces[i];
    }
    // The same for the hasher, which asks `still` every 100 ms meanwhile (a cancel is heard while a
    // connection stalls): false from it cancels.
    Piece* await(std::size_t i, const std::function<bool()>& still) {
        std::unique_lock lock(m_mutex);
        while (!m_changed.wait_for(lock, std::chrono::milliseconds(100),
                                   [&] { return m_stop || (m_pieces.count(i) && m_pieces[i].ready); })) {
            lock.unlock();
            if (!still())
                throw ClientError(0, "download canceled");
            lock.lock();
        }
        return m_stop ? nullptr : &m_pieces[i];
    }
    void done(std::size_t i, bool Piece::*stage) {
        std::lock_guard lock(m_mutex);
        auto& piece = m_pieces[i];
        piece.*stage = true;
        if (piece.hashed && piece.written) {
            m_pieces.erase(i);
            ++m_released;
        }
        m_changed.notify_all();
    }

    void fetch() {
        for (;;) {
            std::size_t i;
            {
                std::unique_lock lock(m_mutex);
                m_changed.wait(lock, [&] { return m_stop || m_next < m_released + m_options.ahead; });
                if (m_stop || m_next >= m_ranges.size())
                    return;
                i = m_next++;
                m_pieces[i];
            }
            const auto& r = m_ranges[i];
            const auto& f = m_files[r.file];
            const auto want = static_cast<std::size_t>(r.end - r.first);
            auto data = std::make_unique_for_overwrite<std::uint8_t[]>(want);
            std::size_t have = 0;
            int attempts = 0;
            while (have < want) {
                if (m_stop)
                    return;
                std::uint64_t got = 0;
                std::exception_ptr unreachable;
                try {
                    got = m_client.fetchRange(f.url, r.first + have, r.end - 1, data.get() + have);
                } catch (const ClientError& e) { // unreachable: asked again; a refusal is final
                    if (e.status() != 0 || m_stop || e.what() == std::string("request canceled"))
                        throw;
                    unreachable = std::current_exception();
                }
                have += static_cast<std::size_t>(got);
                if (have < want) { // the connection dropped (or never came): resumed where it broke
                    if (m_stop)
                        return;
                    if (++attempts > m_options.maxResumes) {
                        if (unreachable)
                            std::rethrow_exception(unreachable);
                        throw ClientError(0, "the connection to kilnd dropped " + std::to_string(attempts) +
                                                 " times while fetching " + f.path);
                    }
                    ++m_resumes;
                    if (got == 0) // no progress at all: back off before asking again
                        std::this_thread::sleep_for(std::chrono::milliseconds(100 << std::min(attempts, 5)));
                }
            }
            std::lock_guard lock(m_mutex);
            m_pieces[i].data = std::move(data);
            m_pieces[i].size = want;
            m_pieces[i].ready = true;
            m_changed.notify_all();
        }
    }

    void write() {
        std::size_t i = 0;
        for (const auto& f : m_files) {
            m_sink.begin(m_lane, f);
            for (; i < m_ranges.size() && &m_files[m_ranges[i].file] == &f; ++i) {
                auto* piece = await(i);
                if (!piece)
                    return;
                m_sink.write(m_lane, piece->data.get(), piece->size);
                done(i, &Piece::written);
            }
            {
                std::unique_lock lock(m_mutex); // a file ends once its bytes are verified
                m_changed.wait(lock, [&] {
                    return m_stop || m_verified > static_cast<std::size_t>(&f - m_files.data());
                });
                if (m_stop)
                    return;
            }
            m_sink.end(m_lane);
            std::lock_guard lock(m_mutex);
            ++m_ended;
            m_changed.notify_all();
        }
    }

    void hash(const Progressed& progressed) {
        std::size_t i = 0;
        for (const auto& f : m_files) {
            if (!progressed(m_lane, 0, f, false))
                throw ClientError(0, "download canceled");
            Util::Sha256 hash;
            for (; i < m_ranges.size() && &m_files[m_ranges[i].file] == &f; ++i) {
                auto* piece = await(i, [&] { return progressed(m_lane, 0, f, false); });
                if (!piece)
                    return;
                hash.update(piece->data.get(), piece->size);
                const auto n = static_cast<std::int64_t>(piece->size);
                done(i, &Piece::hashed);
                if (!progressed(m_lane, n, f, false))
                    throw ClientError(0, "download canceled");
            }
            const auto actual = hash.finishHex();
            if (actual != f.sha256)
                throw ClientError(0, f.path + " does not match its SHA-256 (expected " +
                                         f.sha256.substr(0, 12) + "..., got " + actual.substr(0, 12) +
                                         "...): the stored copy is damaged; nothing was written");
            {
                std::lock_guard lock(m_mutex);
                ++m_verified;
                m_changed.notify_all();
            }
            if (!progressed(m_lane, 0, f, true))
                throw ClientError(0, "download canceled");
        }
        std::unique_lock lock(m_mutex); // every file written and ended
        m_changed.wait(lock, [&] { return m_stop || m_ended == m_files.size(); });
    }

    Api::Client& m_client;
    const std::vector<RemoteFile>& m_files;
    const Options& m_options;
    Sink& m_sink;
    const std::size_t m_lane;
    std::vector<Range> m_ranges;
    std::mutex m_mutex;
    std::condition_variable m_changed;
    std::map<std::size_t, Piece> m_pieces; // fetched or being fetched, not yet hashed and written
    std::size_t m_next = 0;                // the next range to fetch
    std::size_t m_released = 0;            // pieces hashed and written
    std::size_t m_verified = 0;            // files whose hash matched
    std::size_t m_ended = 0;               // files written in full
    std::atomic<bool> m_stop = false;
    std::atomic<bool> m_aborted = false;
    std::atomic<int> m_resumes = 0;
    std::exception_ptr m_failure;
};

// The files divided among `count` lanes of about equal bytes (the largest first, each to the lightest lane),
// each lane keeping the listing's order; all in one lane when a lane would carry less than one range.
std::vector<std::vector<RemoteFile>> splitLanes(const std::vector<RemoteFile>& files, std::size_t count,
                                                std::uint64_t window) {
    std::vector<std::size_t> order(files.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return files[a].size > files[b].size; });
    std::vector<std::uint64_t> load(count, 0);
    std::vector<std::size_t> laneOf(files.size(), 0);
    for (auto i : order) {
        const auto lane = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
        laneOf[i] = lane;
        load[lane] += static_cast<std::uint64_t>(files[i].size);
    }
    if (count > 1 && *std::min_element(load.begin(), load.end()) < window)
        return {files};
    std::vector<std::vector<RemoteFile>> lanes(count);
    for (std::size_t i = 0; i < files.size(); ++i)
        lanes[laneOf[i]].push_back(files[i]);
    return lanes;
}

} // namespace

Result download(Api::Client& client, const std::vector<RemoteFile>& files, const fs::path& dest,
                const Options& options) {
    checkNames(files);
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    Progress progress;
    progress.fileCount = static_cast<std::int64_t>(files.size());
    for (const auto& f : files)
        progress.bytesTotal += f.size;
    auto lastReport = start - std::chrono::seconds(1);
    // A folder of several large files is fetched on two lanes, each hashing on its own core (SHA-256 of one
    // file cannot be split, and costs about a second per GB on this kind of machine); an archive's entries
    // are written one after another: one lane.
    const auto lanes = splitLanes(files, options.format == Format::Folder ? 2 : 1, options.window);
    Options laneOptions = options;
    laneOptions.ahead = std::max<std::size_t>(2, options.ahead / lanes.size());
    std::unique_ptr<Sink> sink;
    if (options.format == Format::Folder)
        sink = std::make_unique<FolderSink>(dest, lanes.size());
    else
        sink = std::make_unique<ArchiveSink>(dest, options.format, options.archiveRoot, progress.bytesTotal);
    std::vector<std::unique_ptr<Pipeline>> pipelines;
    for (std::size_t l = 0; l < lanes.size(); ++l)
        pipelines.push_back(std::make_unique<Pipeline>(client, lanes[l], laneOptions, *sink, l));
    const auto resumes = [&] {
        int n = 0;
        for (const auto& p : pipelines)
            n += p->resumes();
        return n;
    };
    std::mutex progressMutex; // lanes report from their own threads; onProgress hears one at a time
    const auto report = [&](bool force) {
        const auto now = Clock::now();
        if (!force && now - lastReport < std::chrono::milliseconds(100))
            return true;
        lastReport = now;
        const double seconds = std::chrono::duration<double>(now - start).count();
        progress.bytesPerSecond = seconds > 0 ? static_cast<double>(progress.bytesDone) / seconds : 0;
        progress.resumes = resumes();
        return !options.onProgress || options.onProgress(progress);
    };
    std::vector<std::string> current(lanes.size()); // each lane's file
    const Progressed progressed = [&](std::size_t lane, std::int64_t bytes, const RemoteFile& f,
                                      bool verified) {
        std::lock_guard lock(progressMutex);
        current[lane] = verified ? std::string() : f.path; // (a lane done with its files shows none)
        progress.current.clear();
        for (const auto& c : current)
            if (!c.empty())
                progress.current += (progress.current.empty() ? "" : ", ") + c;
        progress.bytesDone += bytes;
        if (verified)
            ++progress.filesDone;
        return report(verified || bytes == 0);
    };
    try {
        std::exception_ptr failure;
        std::mutex failureMutex;
        const auto runLane = [&](std::size_t l) {
            try {
                pipelines[l]->run(progressed);
            } catch (...) {
                std::lock_guard lock(failureMutex);
                if (!failure)
                    failure = std::current_exception();
                for (auto& p : pipelines) // the other lanes stop too: all or nothing
                    p->abort();
            }
        };
        std::vector<std::thread> others;
        for (std::size_t l = 1; l < lanes.size(); ++l)
            others.emplace_back(runLane, l);
        runLane(0);
        for (auto& t : others)
            t.join();
        if (failure)
            std::rethrow_exception(failure);
        if (!report(true))
            throw ClientError(0, "download canceled");
        sink->commit();
    } catch (...) {
        sink->discard();
        throw;
    }
    Result r;
    r.written = dest;
    r.bytes = progress.bytesDone;
    r.files = progress.filesDone;
    r.resumes = resumes();
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return r;
}

} // namespace Kiln::Transfer
