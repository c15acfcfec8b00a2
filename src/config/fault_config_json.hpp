#pragma once
// Private: reads a "faults" object from an already parsed JSON value (node config and
// parse_fault_config share it), errors naming fields under `pointer`.

#include <ainet/config/fault_config.hpp>

#include "json_reader.hpp"

namespace ainet::config::detail {

[[nodiscard]] result<fault_config> read_fault_config(const json& value, std::string_view pointer,
                                                     const source& src);

} // namespace ainet::config::detail
