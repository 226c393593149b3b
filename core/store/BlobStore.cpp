#include "BlobStore.h"

#include "store/Database.h"
#include "util/Crypto.h"
#include "util/Error.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <future>
#include <linux/fs.h>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace fs = std::filesystem;

namespace Kiln::Store {

BlobStore::BlobStore(fs::path root)
    : m_root(std::move(root)) {
    fs::create_directories(m_root / "tmp");
}

fs::path BlobStore::tempPath() const {
    static std::atomic<unsigned> counter{0};
    return m_root / "tmp" / (std::to_string(::getpid()) + "-" + std::to_string(counter++));
}

fs::path BlobStore::pathOf(const std::string& hash) const {
    if (!Util::isSha256Hex(hash))
        throw badRequest("not a SHA-256 hash: " + hash.substr(0, 80));
    return m_root / hash.substr(0, 2) / hash;
}

bool BlobStore::has(const std::string& hash) const {
    std::error_code ec;
    return Util::isSha256Hex(hash) && fs::exists(pathOf(hash), ec);
}

void BlobStore::touch(const std::string& hash) const {
    ::utimensat(AT_FDCWD, pathOf(hash).c_str(), nullptr, 0);
}

std::uint64_t BlobStore::sizeOf(const std::string& hash) const {
    return fs::file_size(pathOf(hash));
}

// A failed write: 507 when the disk is full (the user can free space and retry), else an internal error.
[[noreturn]] static void writeFailed(const std::string& what, int err) {
    if (err == ENOSPC || err == EDQUOT) {
        noteDiskFull();
        throw UserError(507, "the workspace's disk is full (" + what + "); free some space and try again");
    }
    throw std::runtime_error(what + ": " + std::strerror(err));
}

static void install(const fs::path& tmp, const fs::path& final) {
    fs::create_directories(final.parent_path());
    std::error_code ec;
    if (fs::exists(final, ec)) {
        fs::remove(tmp, ec);
        ::utimensat(AT_FDCWD, final.c_str(), nullptr, 0); // in use again: not garbage for a while (Gc.h)
        return;
    }
    fs::permissions(tmp, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read, ec);
    fs::rename(tmp, final);
}

BlobStore::Writer::Writer(const BlobStore& store)
    : m_store(store)
    , m_tmp(store.tempPath())
    , m_hash(std::make_unique<Util::Sha256>()) {
    m_fd = ::open(m_tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (m_fd < 0)
        throw std::runtime_error("cannot write to the blob store: " + m_tmp.string());
}

BlobStore::Writer::~Writer() {
    if (m_fd >= 0) {
        ::close(m_fd);
        ::unlink(m_tmp.c_str());
    }
}

void BlobStore::Writer::write(const void* data, std::size_t size) {
    m_hash->update(data, size);
    auto* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = ::write(m_fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            writeFailed("cannot write to the blob store", n < 0 ? errno : ENOSPC);
        p += n;
        size -= static_cast<std::size_t>(n);
        m_size += static_cast<std::uint64_t>(n);
    }
}

std::string BlobStore::Writer::finish() {
    if (::close(m_fd) != 0) {
        const int err = errno;
        m_fd = -1;
        ::unlink(m_tmp.c_str());
        writeFailed("cannot write to the blob store", err);
    }
    m_fd = -1;
    return m_hash->finishHex();
}

void BlobStore::Writer::commit(const std::string& expected) {
    const auto actual = finish();
    if (actual != expected) {
        ::unlink(m_tmp.c_str());
        throw badRequest("content does not match its hash (expected " + expected + ", got " + actual + ")");
    }
    install(m_tmp, m_store.pathOf(actual));
}

std::string BlobStore::Writer::commit() {
    auto hash = finish();
    install(m_tmp, m_store.pathOf(hash));
    return hash;
}

std::string BlobStore::putFile(const fs::path& file, const std::function<bool(std::uint64_t)>& progress) {
    int in = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
        throw std::runtime_error("cannot read " + file.string() + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(in, &st) == 0 && st.st_size < (8 << 20)) {
        // Small files: one pass, read -> hash -> write.
        Writer w(*this);
        std::vector<char> small(static_cast<std::size_t>(std::max<off_t>(st.st_size, 1)) + 1);
        for (;;) {
            ssize_t n = ::read(in, small.data(), small.size());
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                ::close(in);
                throw std::runtime_error("cannot read " + file.string() + ": " + std::strerror(errno));
            }
            if (n == 0)
                break;
            w.write(small.data(), static_cast<std::size_t>(n));
        }
        ::close(in);
        if (progress && !progress(w.size()))
            throw UserError(499, "canceled");
        return w.commit();
    }
    // Big files, two cores: the kernel copies the file (copy_file_range) while this thread hashes it, so
    // storing costs about what hashing alone does.
    const auto tmp = tempPath();
    int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        ::close(in);
        throw std::runtime_error("cannot write to the blob store: " + tmp.string());
    }
    std::atomic<bool> stop{false};
    int copyErrno = 0;
    auto copier = std::async(std::launch::async, [&]() -> std::string {
        int src = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
        if (src < 0)
            return std::string("cannot read ") + file.string();
        std::string error;
        for (;;) {
            if (stop)
                break;
            ssize_t n = ::copy_file_range(src, nullptr, out, nullptr, 64 << 20, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                copyErrno = errno;
                error = std::string("cannot write to the blob store: ") + std::strerror(errno);
                break;
            }
            if (n == 0)
                break;
        }
        ::close(src);
        return error;
    });
    Util::Sha256 hash;
    std::vector<char> buf(1 << 20);
    std::uint64_t done = 0;
    std::string error;
    for (;;) {
        ssize_t n = ::read(in, buf.data(), buf.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            error = "cannot read " + file.string() + ": " + std::strerror(errno);
            break;
        }
        if (n == 0)
            break;
        hash.update(buf.data(), static_cast<std::size_t>(n));
        done += static_cast<std::uint64_t>(n);
        if (progress && !progress(done)) {
            error = "canceled";
            break;
        }
    }
    stop = !error.empty();
    const auto copyError = copier.get();
    ::close(in);
    const bool closed = ::close(out) == 0;
    const int closeErrno = closed ? 0 : errno;
    std::error_code ec;
    if (!error.empty() || !copyError.empty() || !closed || fs::file_size(tmp, ec) != done) {
        fs::remove(tmp, ec);
        if (error == "canceled")
            throw UserError(499, "canceled");
        if (error.empty() && (copyErrno || closeErrno))
            writeFailed("cannot write to the blob store", copyErrno ? copyErrno : closeErrno);
        throw std::runtime_error(!error.empty() ? error
                                 : !copyError.empty()
                                     ? copyError
                                     : "the file changed while it was stored: " + file.string());
    }
    auto hex = hash.finishHex();
    install(tmp, pathOf(hex));
    return hex;
}

std::string BlobStore::putBytes(std::string_view bytes) {
    auto hash = Util::sha256Hex(bytes);
    if (has(hash))
        return hash;
    Writer w(*this); // a failed write leaves no temporary file behind
    w.write(bytes.data(), bytes.size());
    return w.commit();
}

void BlobStore::putVerified(std::string_view bytes, const std::string& expected) {
    if (!Util::isSha256Hex(expected))
        throw badRequest("not a SHA-256 hash");
    auto actual = Util::sha256Hex(bytes);
    if (actual != expected)
        throw badRequest("content does not match its hash (expected " + expected + ", got " + actual + ")");
    putBytes(bytes);
}

void BlobStore::copyOut(const std::string& hash, const fs::path& dest, unsigned mode) const {
    fs::create_directories(dest.parent_path());
    const auto source = pathOf(hash);
    const int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
        throw std::runtime_error("cannot read stored file " + hash + ": " + std::strerror(errno));
    ::unlink(dest.c_str()); // a fresh inode: never write through a link into the store
    const int out = ::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        const int err = errno;
        ::close(in);
        throw std::runtime_error("cannot create " + dest.string() + ": " + std::strerror(err));
    }
    // A reflink where the file system shares blocks (Btrfs, XFS): instant, and still a separate file.
    // Else copy_file_range, which the kernel may also do without moving the bytes through user space.
    bool ok = ::ioctl(out, FICLONE, in) == 0;
    if (!ok) {
        struct stat st {};
        ::fstat(in, &st);
        off_t left = st.st_size;
        ok = true;
        while (left > 0) {
            const auto n = ::copy_file_range(in, nullptr, out, nullptr, static_cast<std::size_t>(left), 0);
            if (n <= 0) {
                ok = n == 0 && left == 0;
                break;
            }
            left -= n;
        }
    }
    const int err = errno;
    ::close(in);
    ::close(out);
    if (!ok) {
        ::unlink(dest.c_str());
        if (err == ENOSPC) {
            noteDiskFull();
            throw UserError(507, "the workspace's disk is full (copying " + dest.filename().string() + ")");
        }
        // copy_file_range is missing for some file system pairs: the portable way.
        fs::copy_file(source, dest, fs::copy_options::overwrite_existing);
    }
    fs::permissions(dest, static_cast<fs::perms>(mode));
}

} // namespace Kiln::Store
