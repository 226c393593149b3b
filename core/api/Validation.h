#pragma once
// Shared by the API's route files: JSON out, JSON in, and typed query parameters, each throwing a
// UserError (4xx) with a message for bad input.
#include "util/Json.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace Kiln::Api {

std::string dump(const Json& j);                              // invalid UTF-8 is replaced, never an exception
Json parseBody(const std::string& body);                      // a JSON object, or 400/413
std::int64_t parseId(const std::string& s, const char* what); // a positive id, or 404
// A relative file path inside a run, dataset or model (`what`); 400 for '..', absolute paths, NUL or control
// characters.
std::string relativePath(const std::string& path, const std::string& what);
// Names of experiments, metric keys, params and tags: printable, 1..maxLen bytes, no control characters.
std::string validName(const Json& j, const char* what, std::size_t maxLen = 250);
// An experiment's name: a valid name that is not a path.
std::string experimentName(const Json& j);
// body[field] as an object of names to strings (at most 10000 bytes), numbers, booleans or nulls.
Json validStringMap(const Json& body, const char* field);
std::int64_t queryInt(const std::map<std::string, std::string>& q, const char* key, std::int64_t def,
                      std::int64_t min, std::int64_t max);
// A finite number in [min, max], or nullopt when the parameter is absent or empty.
std::optional<double> queryNumber(const std::map<std::string, std::string>& q, const char* key, double min,
                                  double max);

} // namespace Kiln::Api
