#include "core/entity_pools.hpp"

#include <algorithm>
#include <cmath>

#include "core/bounds.hpp"
#include "core/event_key.hpp"

namespace supervent::core {
namespace {

[[noreturn]] void fail(const SchemaOrigin& origin, const std::string& reason) { throw SchemaError(origin, reason); }

bool takes_pool(FieldKind kind) {
    switch (kind) {
        case FieldKind::ipv4:
        case FieldKind::ipv6:
        case FieldKind::uuid4:
        case FieldKind::hex_id:
        case FieldKind::base62_id:
        case FieldKind::integer:
        case FieldKind::person:
        case FieldKind::name:
        case FieldKind::email:
        case FieldKind::geo:
            return true;
        default:
            return false;
    }
}

std::string popularity_text(const FieldSpec& f) {
    if (f.popularity == Popularity::uniform) return "uniform";
    std::string exponent = std::to_string(f.zipf_exponent);
    exponent.erase(exponent.find_last_not_of('0') + 1);
    if (exponent.back() == '.') exponent.pop_back();
    return "zipf " + exponent;
}

std::string parent_of(const std::string& name) {
    const auto dot = name.rfind('.');
    return dot == std::string::npos ? std::string() : name.substr(0, dot);
}

}  // namespace

void check_pool(const FieldSpec& f) {
    if (f.pool == 0) {
        if (f.popularity != Popularity::zipf || f.zipf_exponent != 1.0) {
            fail(f.origin, "popularity and zipf_exponent describe a pool: give the field pool = N (members) too");
        }
        return;
    }
    if (!takes_pool(f.kind)) {
        fail(f.origin, "pool: this field's type takes no pool (pools are for ipv4, ipv6, uuid, hex, base62, integer, "
                       "person, name, email and geo fields)");
    }
    if (f.name == builtin_request_id_field) fail(f.origin, "pool: request_id is one per request, so it takes no pool");
    if (f.pool > bounds::field_pool_members_max) {
        fail(f.origin, "pool = " + std::to_string(f.pool) + " is more than " +
                           std::to_string(bounds::field_pool_members_max) + " members");
    }
    if (!std::isfinite(f.zipf_exponent) || !(f.zipf_exponent > 0) || f.zipf_exponent > 10) {
        fail(f.origin, "zipf_exponent must be > 0 and at most 10 (1 is typical: the top member about "
                       "1/ln(pool) of all events)");
    }
}

std::vector<double> pool_popularity(const FieldSpec& f) {
    std::vector<double> weights(f.pool, 1.0);
    if (f.popularity == Popularity::zipf) {
        for (std::size_t k = 0; k < weights.size(); ++k) weights[k] = std::pow(static_cast<double>(k + 1), -f.zipf_exponent);
    }
    return weights;
}

EntityPools::EntityPools(const SourceSpec& spec, const std::vector<int>& row_of) : spec_(spec), row_of_(row_of) {
    const int rows = row_of_.empty() ? 0 : *std::max_element(row_of_.begin(), row_of_.end()) + 1;
    row_pool_field_.assign(static_cast<std::size_t>(rows), -1);
    for (std::size_t i = 0; i < spec.fields.size(); ++i) {
        const FieldSpec& f = spec.fields[i];
        check_pool(f);
        if (f.pool == 0) continue;
        if (row_of_[i] >= 0 && row_pool_field_[static_cast<std::size_t>(row_of_[i])] < 0) {
            row_pool_field_[static_cast<std::size_t>(row_of_[i])] = static_cast<int>(i);
        }
        const auto [it, added] = entities_.try_emplace(entity_of(i), Entity{i, -1});
        const FieldSpec& first = spec.fields[it->second.first_field];
        if (!added && (first.pool != f.pool || first.popularity != f.popularity || first.zipf_exponent != f.zipf_exponent)) {
            fail(f.origin, "pool = " + std::to_string(f.pool) + " (" + popularity_text(f) + ") differs from field \"" +
                               first.name + "\"'s pool = " + std::to_string(first.pool) + " (" + popularity_text(first) +
                               "); pooled fields of one entity (the same group, or the same parent object) share "
                               "their members, so they need the same pool and popularity");
        }
    }
}

// The entity a field belongs to: its group, else its parent object; a
// top-level field without a group is an entity of its own (a row: its row).
std::string EntityPools::entity_of(std::size_t field) const {
    const FieldSpec& f = spec_.fields[field];
    std::string entity = f.group.empty() ? parent_of(f.name) : f.group;
    if (!entity.empty()) return entity;
    const int row = row_of_[field];
    return row >= 0 ? "\x01row " + std::to_string(row) : "\x01" + f.name;
}

void EntityPools::apply(ProgramBuilder& b, std::size_t field, Column column) {
    const int row = row_of_[field];
    const bool pooled = row >= 0 ? row_pool_field_[static_cast<std::size_t>(row)] >= 0 : spec_.fields[field].pool != 0;
    if (!pooled) return;
    Entity& entity = entities_.at(entity_of(field));
    if (entity.select < 0) entity.select = b.pool_select(pool_popularity(spec_.fields[entity.first_field]));
    b.pooled(column, static_cast<std::uint16_t>(entity.select), hash_text(spec_.fields[field].name));
}

}  // namespace supervent::core
