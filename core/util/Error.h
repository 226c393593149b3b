#pragma once
#include <stdexcept>
#include <string>

namespace Kiln {

// An error a user caused and can fix; `status` is the HTTP status the server answers with.
class UserError : public std::runtime_error {
public:
    UserError(int status, const std::string& message)
        : std::runtime_error(message)
        , m_status(status) {}
    int status() const { return m_status; }

private:
    int m_status;
};

inline UserError badRequest(const std::string& m) {
    return UserError(400, m);
}
inline UserError notFound(const std::string& m) {
    return UserError(404, m);
}
inline UserError conflict(const std::string& m) {
    return UserError(409, m);
}

} // namespace Kiln
