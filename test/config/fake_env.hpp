#pragma once
// An environment for tests: only what the test puts in it, never the real one.
#include <map>
#include <string>

#include "config/load.hpp"

namespace supervent::test {

struct FakeEnv {
    std::map<std::string, std::string> values;

    // The GetEnv view of this environment; valid while the FakeEnv lives.
    supervent::config::GetEnv get() const {
        return [this](const char* name) -> const char* {
            const auto found = values.find(name);
            return found == values.end() ? nullptr : found->second.c_str();
        };
    }
};

}  // namespace supervent::test
