#pragma once
#include <string>
#include <vector>

namespace Kiln::Store {
// Migration i takes the database from schema version i to i+1 (PRAGMA user_version). Append only.
const std::vector<std::string>& schemaMigrations();
} // namespace Kiln::Store
