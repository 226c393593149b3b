#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace Kiln::Store {

// Content-addressed file store: blobs/ab/abcdef... named by the SHA-256 of their bytes. A blob is written
// to a temporary file, hashed while written, and renamed into place, so a reader never sees half a blob
// and identical content is stored once.
class BlobStore final {
public:
    explicit BlobStore(std::filesystem::path root);

    // Copies a file in; returns its hash.
    std::string putFile(const std::filesystem::path& file);
    std::string putBytes(std::string_view bytes);
    // Stores bytes that the caller says hash to `expected`; throws if they do not.
    void putVerified(std::string_view bytes, const std::string& expected);

    bool has(const std::string& hash) const;
    std::filesystem::path pathOf(const std::string& hash) const;
    std::uint64_t sizeOf(const std::string& hash) const;
    // Copies a blob out to `dest` (creating parent folders), with `mode` permissions.
    void copyOut(const std::string& hash, const std::filesystem::path& dest, unsigned mode = 0644) const;

private:
    std::filesystem::path tempPath() const;
    std::filesystem::path m_root;
};

} // namespace Kiln::Store
