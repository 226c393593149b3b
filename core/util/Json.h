#pragma once
#include <nlohmann/json.hpp>

namespace Kiln {
using Json = nlohmann::json;
}
