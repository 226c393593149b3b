#pragma once
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace Kiln::Util {

// Incremental SHA-256 (OpenSSL EVP), hex output.
class Sha256 final {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(const void* data, std::size_t size);
    std::string finishHex();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

std::string sha256Hex(std::string_view data);
std::string sha256File(const std::filesystem::path& path);
// Cryptographically random bytes rendered as 2*bytes hex characters.
std::string randomHex(std::size_t bytes);
// Comparison whose duration does not depend on where the strings differ.
bool constantTimeEquals(std::string_view a, std::string_view b);
bool isSha256Hex(std::string_view s);

} // namespace Kiln::Util
