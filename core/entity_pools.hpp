#pragma once
// Entity pools (used by schema_compile.cpp): a field with `pool = N` draws
// its values from N members instead of afresh for every event, so users,
// client IPs and hosts come back (docs/configuration.md, "Values that agree").
//
// Member k's value is a pure function of (field name, k): the field's gen op
// takes its random words from the key event_key(hash(field name), k) instead
// of the event's key (ProgramBuilder::pooled). Which member an event shows is
// one more keyed draw of the event, sampled from an alias table of the pool's
// popularity (zipf or uniform), so determinism across batches and shards is
// that of any other draw. Pooled fields of one entity share the draw: the
// entity is the field's `group`, else its parent object ("actor" for
// "actor.email"); a person or place row is one entity with its fields.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/program.hpp"
#include "core/schema.hpp"

namespace supervent::core {

// Throws SchemaError when a field's pool keys are out of range, on a kind
// that takes no pool, or set without a pool.
void check_pool(const FieldSpec& field);

// Member weights: 1 / (k + 1)^zipf_exponent, or all 1.
[[nodiscard]] std::vector<double> pool_popularity(const FieldSpec& field);

class EntityPools {
public:
    // `row_of[i]`: the row group of field i, or -1 (value_rows.hpp).
    EntityPools(const SourceSpec& spec, const std::vector<int>& row_of);
    // After field `field`'s column is made: pools its gen op when the field
    // (or its row) has a pool. Throws SchemaError when fields of one entity
    // ask for different pools.
    void apply(ProgramBuilder& b, std::size_t field, Column column);

private:
    struct Entity {
        std::size_t first_field = 0;  // the field whose pool keys it takes
        int select = -1;              // ProgramBuilder::pool_select, once made
    };
    const SourceSpec& spec_;
    std::vector<int> row_of_;
    std::vector<int> row_pool_field_;  // per row: a pooled field of it, or -1
    std::map<std::string, Entity> entities_;
    [[nodiscard]] std::string entity_of(std::size_t field) const;
};

}  // namespace supervent::core
