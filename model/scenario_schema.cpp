#include "model/scenario_schema.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <utility>

namespace exoderm::schema {
namespace {

namespace uk = units::kind;
constexpr double kInf = std::numeric_limits<double>::infinity();

Range closed(double lo, double hi) { return {lo, hi, false, false}; }
Range positive_up_to(double hi) { return {0.0, hi, true, false}; }
Range at_least(double lo) { return {lo, kInf, false, false}; }

// Accessor: a generic lambda returning a reference to a Scenario field, usable on const and
// non-const scenarios, so one accessor gives both the setter and the getter.
template <class T, class Access>
void bind(Key& k, Access access) {
    k.set = [access](Scenario& s, const Value& v) { access(s) = static_cast<T>(std::get<T>(v)); };
    k.get = [access](const Scenario& s) -> std::optional<Value> { return Value{static_cast<T>(access(s))}; };
}

// The fields every key has; the builders below add what their type needs.
Key make_key(std::string path, Type type, std::string default_toml, Range range, char status,
             std::string description) {
    Key k;
    k.path = std::move(path);
    k.type = type;
    k.default_toml = std::move(default_toml);
    k.range = range;
    k.status = status;
    k.description = std::move(description);
    return k;
}

template <class Access>
Key quantity(std::string path, const units::Kind& kind, std::string display_unit, std::string default_toml,
             Range range, char status, std::string description, Access access) {
    Key k = make_key(std::move(path), Type::Quantity, std::move(default_toml), range, status, std::move(description));
    k.kind = &kind;
    k.display_unit = std::move(display_unit);
    bind<double>(k, access);
    return k;
}

template <class Access>
Key number(std::string path, std::string default_toml, Range range, char status, std::string description,
           Access access) {
    Key k = make_key(std::move(path), Type::Number, std::move(default_toml), range, status, std::move(description));
    bind<double>(k, access);
    return k;
}

template <class Access>
Key integer(std::string path, std::string default_toml, Range range, char status, std::string description,
            Access access) {
    Key k = make_key(std::move(path), Type::Integer, std::move(default_toml), range, status, std::move(description));
    k.set = [access](Scenario& s, const Value& v) {
        using Field = std::remove_reference_t<decltype(access(s))>;
        access(s) = static_cast<Field>(std::get<std::int64_t>(v));
    };
    k.get = [access](const Scenario& s) -> std::optional<Value> {
        return Value{static_cast<std::int64_t>(access(s))};
    };
    return k;
}

template <class Access>
Key boolean(std::string path, std::string default_toml, char status, std::string description, Access access) {
    Key k = make_key(std::move(path), Type::Bool, std::move(default_toml), Range{}, status, std::move(description));
    bind<bool>(k, access);
    return k;
}

template <class Access>
Key text(std::string path, std::string default_toml, std::string description, Access access) {
    Key k = make_key(std::move(path), Type::Text, std::move(default_toml), Range{}, '-', std::move(description));
    bind<std::string>(k, access);
    return k;
}

// Enum keys: choices[i] is the TOML spelling of enumerator i.
template <class Enum, class Access>
Key choice(std::string path, std::vector<std::string> choices, char status, std::string description,
           Access access) {
    Key k = make_key(std::move(path), Type::Choice, quote(choices.front()), Range{}, status, std::move(description));
    k.choices = choices;
    k.set = [access, choices](Scenario& s, const Value& v) {
        const auto& word = std::get<std::string>(v);
        const auto at = std::find(choices.begin(), choices.end(), word);
        access(s) = static_cast<Enum>(at - choices.begin());
    };
    k.get = [access, choices](const Scenario& s) -> std::optional<Value> {
        return Value{choices.at(static_cast<std::size_t>(access(s)))};
    };
    return k;
}

std::vector<Key> layer_keys(int layer, const char* thickness, const char* hindrance, const char* clearance,
                            const char* k_on, const char* k_off, char thickness_status) {
    const std::string section = std::string("skin.") + kLayerKeys[layer];
    const auto L = [layer](auto& s) -> auto& { return s.layers[layer]; };
    std::vector<Key> out;
    out.push_back(quantity(section + ".thickness", uk::length, "um", quote(thickness), positive_up_to(1e4),
                           thickness_status, "layer thickness",
                           [L](auto& s) -> auto& { return L(s).thickness_um; }));
    out.push_back(number(section + ".hindrance", hindrance, closed(0, 1), 'A',
                         "diffusivity in the layer relative to free diffusion D0 (0: impermeable)",
                         [L](auto& s) -> auto& { return L(s).hindrance; }));
    out.push_back(quantity(section + ".clearance", uk::rate, "/h", quote(clearance), closed(0, 1000), 'A',
                           "removal of free vesicles by lymph and blood",
                           [L](auto& s) -> auto& { return L(s).k_clear_per_s; }));
    out.push_back(quantity(section + ".ecm_binding", uk::rate, "/h", quote(k_on), closed(0, 1000), 'A',
                           "binding of free vesicles to the extracellular matrix, k_on",
                           [L](auto& s) -> auto& { return L(s).k_on_ecm_per_s; }));
    out.push_back(quantity(section + ".ecm_release", uk::rate, "/h", quote(k_off), closed(0, 1000), 'A',
                           "release of matrix-bound vesicles, k_off",
                           [L](auto& s) -> auto& { return L(s).k_off_ecm_per_s; }));
    return out;
}

std::vector<Key> cell_type_keys(int type, const char* density, const char* radius, const char* receptors,
                                const char* k_on, char density_status) {
    const std::string section = std::string("cells.") + kCellTypeKeys[type];
    const auto C = [type](auto& s) -> auto& { return s.cells.types[type]; };
    std::vector<Key> out;
    out.push_back(quantity(section + ".density", uk::concentration, "/mm^3", quote(density), closed(0, 1e7),
                           density_status, "cells per tissue volume in the cell type's layer",
                           [C](auto& s) -> auto& { return C(s).density_per_um3; }));
    out.push_back(quantity(section + ".radius", uk::length, "um", quote(radius), closed(1, 50), 'A',
                           "cell radius (sets the diffusion-limited capture ceiling 4 pi D R)",
                           [C](auto& s) -> auto& { return C(s).radius_um; }));
    out.push_back(number(section + ".receptors", receptors, closed(0, 1e9), 'A',
                         "R_max: vesicles the cell surface can hold bound",
                         [C](auto& s) -> auto& { return C(s).receptors; }));
    out.push_back(quantity(section + ".k_on", uk::volume_rate, "um^3/s", quote(k_on), closed(0, 1e6), 'A',
                           "capture rate constant per free binding site (k_on R_max is the reaction-limited capture)",
                           [C](auto& s) -> auto& { return C(s).k_on_um3_per_s; }));
    out.push_back(quantity(section + ".k_off", uk::rate, "/h", quote("0.5 /h"), closed(0, 1e4), 'A',
                           "release of surface-bound vesicles back to the free field",
                           [C](auto& s) -> auto& { return C(s).k_off_per_s; }));
    out.push_back(quantity(section + ".k_int", uk::rate, "/h", quote("1 /h"), closed(0, 1e4), 'A',
                           "internalisation of surface-bound vesicles",
                           [C](auto& s) -> auto& { return C(s).k_int_per_s; }));
    out.push_back(quantity(section + ".k_lys", uk::rate, "/h", quote("0.05 /h"), closed(0, 1e4), 'A',
                           "lysosomal digestion of internalised cargo",
                           [C](auto& s) -> auto& { return C(s).k_lys_per_s; }));
    out.push_back(quantity(section + ".signal_rate", uk::rate, "/d", quote("2 /d"), closed(0, 1e4), 'A',
                           "rate at which the cargo signal S follows potency x internalised cargo",
                           [C](auto& s) -> auto& { return C(s).signal_rate_per_s; }));
    return out;
}

// Product factors (MODEL.md section 3): source potency, shelf decay, donor age, contamination.
std::vector<Key> product_factor_keys() {
    std::vector<Key> out;
    out.push_back(choice<ProductSource>("product.source", std::vector<std::string>(kProductSourceKeys.begin(), kProductSourceKeys.end()), 'A',
                                        "where the vesicles come from; picks product.potency_<source>",
                                        [](auto& s) -> auto& { return s.product.source; }));
    const std::array<const char*, kProductSourceCount> potency{"1.0", "1.2", "0.7", "0.2"};
    for (int i = 0; i < kProductSourceCount; ++i)
        out.push_back(number(std::string("product.potency_") + kProductSourceKeys[i], potency[i], closed(0, 100), 'A',
                             std::string("relative cargo effect of ") + kProductSourceKeys[i] + "-derived EVs (MSC 1.0)",
                             [i](auto& s) -> auto& { return s.product.source_potency[i]; }));
    out.push_back(quantity("product.storage_time", uk::time, "d", quote("0 d"), closed(0, 36500), 'A',
                           "time between making and applying the product",
                           [](auto& s) -> auto& { return s.product.storage_time_s; }));
    out.push_back(quantity("product.storage_temperature", uk::temperature, "C", quote("4 C"), closed(-200, 100), 'A',
                           "storage temperature", [](auto& s) -> auto& { return s.product.storage_temperature_K; }));
    out.push_back(quantity("product.shelf_half_life", uk::time, "d", quote("30 d"), positive_up_to(1e6), 'A',
                           "half-life of product activity at the shelf reference temperature (first-order decay)",
                           [](auto& s) -> auto& { return s.product.shelf_half_life_s; }));
    out.push_back(quantity("product.shelf_reference_temperature", uk::temperature, "C", quote("4 C"), closed(-200, 100), 'A',
                           "temperature at which product.shelf_half_life holds",
                           [](auto& s) -> auto& { return s.product.shelf_reference_temperature_K; }));
    out.push_back(quantity("product.shelf_activation_energy", uk::molar_energy, "kJ/mol", quote("80 kJ/mol"),
                           closed(0, 1000), 'A', "Arrhenius activation energy of the activity loss",
                           [](auto& s) -> auto& { return s.product.shelf_activation_energy; }));
    out.push_back(boolean("product.autologous", "false", 'A',
                          "made from the patient's own cells or blood: potency falls with the donor age",
                          [](auto& s) -> auto& { return s.product.autologous; }));
    out.push_back(quantity("product.donor_age", uk::time, "y", quote("20 y"), closed(0, 150), 'A',
                           "donor (patient) age; used when product.autologous",
                           [](auto& s) -> auto& { return s.product.donor_age_s; }));
    out.push_back(quantity("product.donor_age_reference", uk::time, "y", quote("20 y"), closed(0, 150), 'A',
                           "age at which the donor age factor is 1",
                           [](auto& s) -> auto& { return s.product.donor_age_reference_s; }));
    out.push_back(quantity("product.donor_age_scale", uk::time, "y", quote("40 y"), positive_up_to(1e4), 'A',
                           "donor age factor exp(-(age - reference) / scale)",
                           [](auto& s) -> auto& { return s.product.donor_age_scale_s; }));
    out.push_back(number("product.contamination", "0", closed(0, 1), 'A',
                         "share of vesicles carrying pro-inflammatory cargo (0-0.2)",
                         [](auto& s) -> auto& { return s.product.contamination; }));
    out.push_back(number("product.contaminant_potency", "1.0", closed(0, 100), 'A',
                         "pro-inflammatory cargo effect of one contaminated vesicle (same scale as potency)",
                         [](auto& s) -> auto& { return s.product.contaminant_potency; }));
    return out;
}

std::vector<Key> build_keys() {
    std::vector<Key> k;
    const auto add = [&k](Key key) { k.push_back(std::move(key)); };
    const auto add_all = [&k](std::vector<Key> more) {
        for (auto& key : more) k.push_back(std::move(key));
    };

    // [scenario]
    {
        Key name = text("scenario.name", "", "short name used in output files",
                        [](auto& s) -> auto& { return s.name; });
        name.default_note = "the file name without .toml";
        add(std::move(name));
    }
    add(text("scenario.description", quote(""), "what this scenario asks", [](auto& s) -> auto& { return s.description; }));
    add(integer("scenario.seed", "1", at_least(0), '-', "random seed; the same seed gives the same run",
                [](auto& s) -> auto& { return s.seed; }));

    // [skin]
    add(number("skin.channel_lumen_hindrance", "1.0", {0, 1, true, false}, 'A',
               "diffusivity in an open needle channel relative to D0",
               [](auto& s) -> auto& { return s.lumen_hindrance; }));
    add_all(layer_keys(0, "15 um", "0.0", "0 /h", "0 /h", "0 /h", 'M'));
    add_all(layer_keys(1, "70 um", "0.05", "0 /h", "0.5 /h", "0.25 /h", 'M'));
    add_all(layer_keys(2, "1000 um", "0.15", "0.2 /h", "0.5 /h", "0.25 /h", 'M'));

    // [microneedles]
    add(boolean("microneedles.enabled", "true", '-', "false: intact skin, no channels",
                [](auto& s) -> auto& { return s.needles.enabled; }));
    add(quantity("microneedles.needle_length", uk::length, "um", quote("500 um"), positive_up_to(5000), 'M',
                 "needle length (device specification)", [](auto& s) -> auto& { return s.needles.needle_length_um; }));
    add(quantity("microneedles.base_width", uk::length, "um", quote("250 um"), positive_up_to(2000), 'M',
                 "needle width at its base", [](auto& s) -> auto& { return s.needles.base_width_um; }));
    add(choice<NeedleShape>("microneedles.shape", {"cone", "pyramid"}, 'A', "needle and channel shape",
                            [](auto& s) -> auto& { return s.needles.shape; }));
    add(number("microneedles.insertion_efficiency", "0.5", positive_up_to(1), 'D',
               "channel depth / needle length (0.2-0.8 measured)",
               [](auto& s) -> auto& { return s.needles.insertion_efficiency; }));
    {
        Key pitch = quantity("microneedles.pitch", uk::length, "um", "", closed(10, 1e4), 'D',
                             "centre-to-centre channel spacing; give pitch or density, not both",
                             [](auto& s) -> auto& { return s.needles.pitch_um; });
        pitch.default_note = "1 / sqrt(density)";
        add(std::move(pitch));
    }
    {
        Key density;
        density.path = "microneedles.density";
        density.type = Type::Quantity;
        density.kind = &uk::areal_density;
        density.display_unit = "/cm^2";
        density.default_toml = quote("200 /cm^2");
        density.range = closed(1, 1e5);
        density.status = 'A';
        density.description = "punctures per skin area; sets pitch = 1 / sqrt(density)";
        density.set = [](Scenario& s, const Value& v) { s.needles.pitch_um = 1.0 / std::sqrt(std::get<double>(v)); };
        density.get = [](const Scenario&) -> std::optional<Value> { return std::nullopt; };
        add(std::move(density));
    }
    {
        Key array;
        array.path = "microneedles.array";
        array.type = Type::IntegerPair;
        array.default_toml = "[0, 0]";
        array.range = closed(0, 1000);
        array.description = "[N, M] explicit patch of channels; [0, 0]: periodic unit cell around one channel";
        array.set = [](Scenario& s, const Value& v) {
            const auto& a = std::get<std::array<std::int64_t, 2>>(v);
            s.needles.array_nx = static_cast<int>(a[0]);
            s.needles.array_ny = static_cast<int>(a[1]);
        };
        array.get = [](const Scenario& s) -> std::optional<Value> {
            return Value{std::array<std::int64_t, 2>{s.needles.array_nx, s.needles.array_ny}};
        };
        add(std::move(array));
    }
    add(quantity("microneedles.patch_margin", uk::length, "um", quote("300 um"), closed(0, 1e5), '-',
                 "box margin around an explicit patch", [](auto& s) -> auto& { return s.needles.patch_margin_um; }));
    add(boolean("microneedles.occluded", "false", '-', "covered after application (channels stay open longer)",
                [](auto& s) -> auto& { return s.needles.occluded; }));
    {
        Key closure = quantity("microneedles.closure_time", uk::time, "h", "", positive_up_to(1000), 'A',
                               "channel radius a(t) = a0 exp(-t / closure_time)",
                               [](auto& s) -> auto& { return s.needles.tau_close_s; });
        closure.default_note = "1.5 h; 30 h when occluded";
        add(std::move(closure));
    }

    // [wound] (docs/wound-and-injection.md)
    add(choice<WoundShape>("wound.shape", {"none", "disk", "strip", "box"}, '-',
                           "wound bed without stratum corneum and epidermis: none, disk (burn), strip (scratch), or the "
                           "whole box",
                           [](auto& s) -> auto& { return s.wound.shape; }));
    add(quantity("wound.radius", uk::length, "mm", quote("1 mm"), positive_up_to(100), '-', "radius of a disk wound",
                 [](auto& s) -> auto& { return s.wound.radius_um; }));
    add(quantity("wound.width", uk::length, "mm", quote("0.5 mm"), positive_up_to(100), '-',
                 "width of a strip wound (across, along x)", [](auto& s) -> auto& { return s.wound.width_um; }));
    add(quantity("wound.length", uk::length, "mm", quote("2 mm"), positive_up_to(100), '-',
                 "length of a strip wound (along y)", [](auto& s) -> auto& { return s.wound.length_um; }));
    add(quantity("wound.dermis_loss", uk::length, "um", quote("0 um"), closed(0, 1e4), 'A',
                 "upper dermis missing under the lost epidermis (the wound bed lies this much deeper)",
                 [](auto& s) -> auto& { return s.wound.dermis_loss_um; }));
    add(quantity("wound.front_speed", uk::speed, "mm/d", quote("0.2 mm/d"), closed(0, 100), 'A',
                 "v0: re-epithelialisation front speed from the wound edge without EVs",
                 [](auto& s) -> auto& { return s.wound.front_speed_um_per_s; }));
    add(number("wound.ev_acceleration", "1", closed(0, 100), 'A',
               "a_S: the front moves up to 1 + a_S times faster with saturating EV signal at the front",
               [](auto& s) -> auto& { return s.wound.ev_acceleration; }));
    add(number("wound.signal_half", "10", positive_up_to(1e12), 'A',
               "K_S: cargo signal (EV equivalents per cell) at the front for half the acceleration",
               [](auto& s) -> auto& { return s.wound.signal_half; }));
    add(quantity("wound.sense_band", uk::length, "um", quote("200 um"), positive_up_to(1e4), 'A',
                 "dermal cells within this distance of the front (and below the bed) give its signal",
                 [](auto& s) -> auto& { return s.wound.sense_band_um; }));

    // [injection]
    add(boolean("injection.enabled", "false", '-',
                "inject the product as a bolus at depth instead of applying a film (dose = product.concentration "
                "x injection.volume)",
                [](auto& s) -> auto& { return s.injection.enabled; }));
    add(quantity("injection.depth", uk::length, "um", quote("600 um"), positive_up_to(1e4), 'A',
                 "depth of the bolus centre below the skin surface",
                 [](auto& s) -> auto& { return s.injection.depth_um; }));
    add(quantity("injection.volume", uk::volume, "uL", quote("0.1 uL"), positive_up_to(1e4), 'A', "injected volume (0.1 uL fills a sphere of about 290 um)",
                 [](auto& s) -> auto& { return s.injection.volume_um3; }));
    add(quantity("injection.radius", uk::length, "um", quote("300 um"), positive_up_to(1e4), 'A',
                 "radius of the tissue sphere the bolus fills uniformly at t = 0",
                 [](auto& s) -> auto& { return s.injection.radius_um; }));

    // [product]
    add(quantity("product.concentration", uk::concentration, "/mL", quote("1e10 /mL"), closed(0, 1e15), 'A',
                 "vesicle number concentration of the product",
                 [](auto& s) -> auto& { return s.product.concentration_per_um3; }));
    add(quantity("product.volume", uk::volume_per_area, "uL/cm^2", quote("20 uL/cm^2"), positive_up_to(1000), 'A',
                 "applied volume per skin area", [](auto& s) -> auto& { return s.product.volume_per_area_um; }));
    {
        Key d = quantity("product.median_diameter", uk::length, "nm", quote("100 nm"), closed(10, 1000), 'M',
                         "median vesicle diameter (lognormal)",
                         [](auto& s) -> auto& { return s.product.median_diameter_nm; });
        d.value_unit = "nm";
        add(std::move(d));
    }
    add(number("product.gsd", "1.4", closed(1, 5), 'M', "geometric standard deviation of the diameter",
               [](auto& s) -> auto& { return s.product.geometric_sd; }));
    add(integer("product.size_classes", "3", closed(1, 16), '-',
                "equal-probability diameter classes, each transported as its own field",
                [](auto& s) -> auto& { return s.product.size_classes; }));
    add(quantity("product.temperature", uk::temperature, "C", quote("32 C"), closed(0, 50), 'M',
                 "skin surface temperature (Stokes-Einstein D0)",
                 [](auto& s) -> auto& { return s.product.temperature_K; }));
    {
        Key v = quantity("product.viscosity", uk::viscosity, "mPa s", quote("0.764 mPa s"), positive_up_to(1e6), 'M',
                         "viscosity of the carrier fluid (water at 32 C)",
                         [](auto& s) -> auto& { return s.product.viscosity_Pa_s; });
        v.value_unit = "Pa s";
        add(std::move(v));
    }
    {
        Key dry = quantity("product.drying_time", uk::time, "min", quote("never"), positive_up_to(60000), 'A',
                           "after this the film on the skin no longer feeds the channels (30-60 min typical)",
                           [](auto& s) -> auto& { return s.product.drying_time_s; });
        dry.type = Type::QuantityOrNever;
        add(std::move(dry));
    }

    add_all(product_factor_keys());

    // [transport]
    add(quantity("transport.degradation_half_life", uk::time, "d", quote("2 d"), positive_up_to(3650), 'A',
                 "half-life of vesicles in tissue, free and bound (1-3 d)",
                 [](auto& s) -> auto& { return s.degradation.half_life_s; }));
    add(choice<BottomBoundary>("transport.bottom", {"no_flux", "sink"}, 'A', "boundary at the bottom of the dermis",
                               [](auto& s) -> auto& { return s.domain.bottom; }));
    add(choice<TransportMode>("transport.mode", {"continuum", "particles"}, '-',
                              "continuum: concentration fields (PDE); particles: individual Brownian vesicles "
                              "(docs/particles.md)",
                              [](auto& s) -> auto& { return s.transport_mode; }));

    add(number("transport.cutoff", "1e-4", closed(0, 1), '-',
               "transport stops once the vesicles left (reservoir, tissue, cell surfaces) fall below this share of "
               "the applied dose; later steps are response-only",
               [](auto& s) -> auto& { return s.transport_cutoff; }));

    // [particles]
    add(integer("particles.budget", "1000000", closed(1, 1e9), '-',
                "simulated particles standing for the applied dose; each carries applied / budget vesicles",
                [](auto& s) -> auto& { return s.particles.budget; }));
    add(integer("particles.output_sample", "10000", closed(-1, 1e9), '-',
                "particle positions written per snapshot; 0: none, -1: all",
                [](auto& s) -> auto& { return s.particles.output_sample; }));
    add(quantity("particles.max_step", uk::length, "um", quote("1 um"), positive_up_to(100), '-',
                 "rms step per axis near channels, layer boundaries and the skin surface (sets the sub-steps)",
                 [](auto& s) -> auto& { return s.particles.max_step_um; }));

    // [cells]
    add(boolean("cells.enabled", "true", '-', "cell agents, vesicle uptake and the responses (false: transport only)",
                [](auto& s) -> auto& { return s.cells.enabled; }));
    add(choice<UptakeMode>("cells.uptake", {"stochastic", "mean_field"}, '-',
                           "stochastic: binomial capture of the whole vesicles a voxel holds (the fractional rest by "
                           "its expectation); mean_field: expected amounts",
                           [](auto& s) -> auto& { return s.cells.uptake; }));
    add(number("cells.potency", "1.0", closed(0, 100), 'A',
               "batch potency relative to the product's nominal; multiplies the product factors "
               "(docs/product-factors.md)",
               [](auto& s) -> auto& { return s.cells.potency; }));
    add(quantity("cells.macrophage_motility", uk::diffusivity, "um^2/s", quote("0.1 um^2/s"), closed(0, 100), 'A',
                 "random motility of macrophage agents (agents mode)",
                 [](auto& s) -> auto& { return s.cells.macrophage_motility_um2_per_s; }));
    add_all(cell_type_keys(0, "1e6 /mm^3", "6 um", "1000", "0.01 um^3/s", 'M'));
    add_all(cell_type_keys(1, "3000 /mm^3", "7.5 um", "1000", "0.01 um^3/s", 'M'));
    add_all(cell_type_keys(2, "300 /mm^3", "7.5 um", "1000", "0.05 um^3/s", 'A'));

    // [responses]
    add(quantity("responses.dt", uk::time, "h", quote("1 h"), positive_up_to(24), '-',
                 "response clock; also the transport step after time.fine_until",
                 [](auto& s) -> auto& { return s.responses.dt_s; }));
    add(quantity("responses.grid_spacing", uk::length, "um", quote("50 um"), closed(5, 1e4), '-',
                 "spacing of the response grid (cytokines, collagen, macrophage densities) over the dermis",
                 [](auto& s) -> auto& { return s.responses.grid_spacing_um; }));
    add(choice<MacrophageMode>("responses.macrophages", {"agents", "mean_field"}, '-',
                               "agents: stochastic macrophage agents; mean_field: densities on the response grid "
                               "(the Waugh-Sherratt ODE in space)",
                               [](auto& s) -> auto& { return s.responses.macrophages; }));
    add(choice<InjurySite>("responses.injury", {"channel_walls", "uniform", "wound", "injection"}, 'A',
                           "where macrophages are recruited: around the needle channels, the whole dermis, the wound "
                           "bed and walls, or the injected bolus",
                           [](auto& s) -> auto& { return s.responses.injury; }));
    add(quantity("responses.injury_radius", uk::length, "um", quote("50 um"), closed(0, 1e4), 'A',
                 "injured tissue around the channel wall (wound surface, bolus)",
                 [](auto& s) -> auto& { return s.responses.injury_radius_um; }));
    add(quantity("responses.crowding_length", uk::length, "um", quote("100 um"), closed(0, 1e4), 'A',
                 "smoothing length of the agent density that sets crowding (k3)",
                 [](auto& s) -> auto& { return s.responses.crowding_length_um; }));
    add(number("responses.alpha", "0.5", closed(0, 1), 'A',
               "inflammatory share of recruited macrophages without EVs (0.5 resolving, 0.8 chronic/diabetic)",
               [](auto& s) -> auto& { return s.responses.alpha; }));
    add(number("responses.k1", "0.05", closed(0, 100), 'M', "Waugh-Sherratt k1 (k1 k2: proliferation rate)",
               [](auto& s) -> auto& { return s.responses.k1; }));
    add(quantity("responses.k2", uk::rate, "/d", quote("0.693 /d"), closed(0, 1e4), 'M', "Waugh-Sherratt k2",
                 [](auto& s) -> auto& { return s.responses.k2_per_s; }));
    add(quantity("responses.k3", uk::volume, "mm^3", quote("0.002 mm^3"), closed(0, 1e3), 'M',
                 "Waugh-Sherratt crowding volume per macrophage (1 / carrying capacity)",
                 [](auto& s) -> auto& { return s.responses.k3_um3; }));
    add(quantity("responses.k4", uk::mass_rate, "fg/d", quote("70 fg/d"), closed(0, 1e9), 'M',
                 "active TGF-beta made per inflammatory macrophage (0.07 ng/mL per cell/mm^3 per day)",
                 [](auto& s) -> auto& { return s.responses.tgf_secretion_kg_per_s; }));
    add(quantity("responses.d1", uk::rate, "/d", quote("0.2 /d"), closed(0, 1e4), 'M', "macrophage death and emigration",
                 [](auto& s) -> auto& { return s.responses.d1_per_s; }));
    add(quantity("responses.d2", uk::rate, "/d", quote("9.1 /d"), closed(0, 1e5), 'M', "decay of active TGF-beta",
                 [](auto& s) -> auto& { return s.responses.d2_per_s; }));
    add(quantity("responses.initial_inflammatory", uk::concentration, "/mm^3", quote("200 /mm^3"), closed(0, 1e7), 'M',
                 "inflammatory macrophages in injured tissue at t = 0",
                 [](auto& s) -> auto& { return s.responses.initial_inflammatory_per_um3; }));
    add(quantity("responses.initial_repair", uk::concentration, "/mm^3", quote("200 /mm^3"), closed(0, 1e7), 'M',
                 "repair macrophages in injured tissue at t = 0",
                 [](auto& s) -> auto& { return s.responses.initial_repair_per_um3; }));
    add(quantity("responses.initial_tgf_beta", uk::mass_concentration, "ng/mL", quote("6 ng/mL"), closed(0, 1e6), 'M',
                 "active TGF-beta in injured tissue at t = 0",
                 [](auto& s) -> auto& { return s.responses.initial_tgf_kg_per_um3; }));
    add(number("responses.alpha_min", "0.2", closed(0, 1), 'A', "inflammatory share of recruits at saturating EVs",
               [](auto& s) -> auto& { return s.responses.alpha_min; }));
    add(quantity("responses.switch_max", uk::rate, "/d", quote("0.5 /d"), closed(0, 1e4), 'A',
                 "inflammatory -> repair switching rate of a macrophage at saturating EVs",
                 [](auto& s) -> auto& { return s.responses.switch_max_per_s; }));
    add(number("responses.ev_half_effect", "10", positive_up_to(1e12), 'A',
               "K_E: cargo signal (EV equivalents per cell) giving half the EV effect",
               [](auto& s) -> auto& { return s.responses.ev_half_effect; }));
    add(number("responses.alpha_max", "0.95", closed(0, 1), 'A',
               "inflammatory share of recruits at saturating contaminant (pro-inflammatory) cargo",
               [](auto& s) -> auto& { return s.responses.alpha_max; }));
    add(quantity("responses.switch_back_max", uk::rate, "/d", quote("0.5 /d"), closed(0, 1e4), 'A',
                 "repair -> inflammatory switching rate of a macrophage at saturating contaminant cargo",
                 [](auto& s) -> auto& { return s.responses.switch_back_max_per_s; }));
    add(number("responses.contaminant_half_effect", "10", positive_up_to(1e12), 'A',
               "contaminant cargo signal (EV equivalents per cell) giving half its effect",
               [](auto& s) -> auto& { return s.responses.contaminant_half_effect; }));
    add(quantity("responses.tnf_secretion", uk::mass_rate, "fg/d", quote("50 fg/d"), closed(0, 1e9), 'A',
                 "TNF-alpha made per inflammatory macrophage",
                 [](auto& s) -> auto& { return s.responses.tnf_secretion_kg_per_s; }));
    add(quantity("responses.tnf_half_life", uk::time, "h", quote("1 h"), positive_up_to(1e4), 'A', "TNF-alpha half-life in tissue",
                 [](auto& s) -> auto& { return s.responses.tnf_half_life_s; }));
    add(quantity("responses.il10_secretion", uk::mass_rate, "fg/d", quote("50 fg/d"), closed(0, 1e9), 'A',
                 "IL-10 made per repair macrophage",
                 [](auto& s) -> auto& { return s.responses.il10_secretion_kg_per_s; }));
    add(quantity("responses.il10_half_life", uk::time, "h", quote("2 h"), positive_up_to(1e4), 'A', "IL-10 half-life in tissue",
                 [](auto& s) -> auto& { return s.responses.il10_half_life_s; }));
    add(quantity("responses.tgf_beta_diffusivity", uk::diffusivity, "um^2/s", quote("10 um^2/s"), closed(0, 1e4), 'A',
                 "TGF-beta diffusivity in the dermis",
                 [](auto& s) -> auto& { return s.responses.tgf_diffusivity_um2_per_s; }));
    add(quantity("responses.tnf_diffusivity", uk::diffusivity, "um^2/s", quote("10 um^2/s"), closed(0, 1e4), 'A',
                 "TNF-alpha diffusivity in the dermis",
                 [](auto& s) -> auto& { return s.responses.tnf_diffusivity_um2_per_s; }));
    add(quantity("responses.il10_diffusivity", uk::diffusivity, "um^2/s", quote("10 um^2/s"), closed(0, 1e4), 'A',
                 "IL-10 diffusivity in the dermis",
                 [](auto& s) -> auto& { return s.responses.il10_diffusivity_um2_per_s; }));
    add(quantity("responses.collagen_rate", uk::mass_rate, "pg/d", quote("10 pg/d"), closed(0, 1e9), 'A',
                 "k_C: new collagen deposited per fibroblast without TGF-beta or EVs",
                 [](auto& s) -> auto& { return s.responses.collagen_rate_kg_per_s; }));
    add(number("responses.collagen3_fraction", "0.2", closed(0, 1), 'A', "share of type III in new collagen without EVs",
               [](auto& s) -> auto& { return s.responses.collagen3_fraction; }));
    add(number("responses.collagen3_fraction_ev", "0.35", closed(0, 1), 'A',
               "share of type III at saturating fibroblast EVs (EVs raise III:I)",
               [](auto& s) -> auto& { return s.responses.collagen3_fraction_ev; }));
    add(number("responses.collagen_tgf_gain", "2", closed(0, 100), 'M',
               "a_T: collagen output rises by up to 1 + a_T under TGF-beta (1-4 measured)",
               [](auto& s) -> auto& { return s.responses.collagen_tgf_gain; }));
    add(quantity("responses.collagen_tgf_half", uk::mass_concentration, "ng/mL", quote("0.5 ng/mL"), positive_up_to(1e6), 'M',
                 "K_T: TGF-beta for half the collagen gain (0.1-1 ng/mL)",
                 [](auto& s) -> auto& { return s.responses.collagen_tgf_half_kg_per_um3; }));
    add(number("responses.collagen_ev_gain", "1", closed(0, 100), 'A',
               "a_E: collagen output rises by up to 1 + a_E with fibroblast EV cargo",
               [](auto& s) -> auto& { return s.responses.collagen_ev_gain; }));
    add(quantity("responses.collagen_half_life", uk::time, "d", quote("30 d"), positive_up_to(1e5), 'A',
                 "turnover of newly deposited collagen", [](auto& s) -> auto& { return s.responses.collagen_half_life_s; }));
    add(boolean("responses.vehicle_control", "true", '-',
                "also run the same scenario and seed without EVs and report fold changes",
                [](auto& s) -> auto& { return s.responses.vehicle_control; }));

    // [domain]
    add(quantity("domain.dx", uk::length, "um", quote("10 um"), positive_up_to(1000), '-', "lateral grid spacing (x and y)",
                 [](auto& s) -> auto& { return s.domain.dx_um; }));
    add(quantity("domain.dz", uk::length, "um", quote("5 um"), positive_up_to(1000), '-', "depth grid spacing",
                 [](auto& s) -> auto& { return s.domain.dz_um; }));
    for (const char* axis : {"x", "y"}) {
        const bool is_x = axis[0] == 'x';
        Key size = is_x ? quantity("domain.size_x", uk::length, "um", "", positive_up_to(1e5), '-', "box width in x",
                                   [](auto& s) -> auto& { return s.domain.size_x_um; })
                        : quantity("domain.size_y", uk::length, "um", "", positive_up_to(1e5), '-', "box width in y",
                                   [](auto& s) -> auto& { return s.domain.size_y_um; });
        size.default_note = "pitch for a unit cell; pitch * N + 2 * patch_margin for a patch";
        add(std::move(size));
    }
    add(integer("domain.min_cells_per_layer", "2", closed(1, 100), '-', "fewest grid cells across any skin layer",
                [](auto& s) -> auto& { return s.domain.min_cells_per_layer; }));
    add(quantity("domain.memory_limit", uk::memory_size, "GiB", quote("0 GiB"), closed(0, 1e6), '-',
                 "memory the run may use; 0: the machine's available memory",
                 [](auto& s) -> auto& { return s.domain.memory_limit_bytes; }));

    // [time]
    add(quantity("time.end", uk::time, "d", quote("28 d"), positive_up_to(365), '-', "simulated time (transport and responses)",
                 [](auto& s) -> auto& { return s.time.end_s; }));
    {
        Key outputs;
        outputs.path = "time.outputs";
        outputs.type = Type::QuantityList;
        outputs.kind = &uk::time;
        outputs.display_unit = "h";
        outputs.default_toml = R"(["0 h", "1 h", "2 h", "4 h", "8 h", "24 h", "3 d", "7 d", "14 d", "28 d"])";
        outputs.default_note = "clipped to time.end, which is always included";
        outputs.range = at_least(0);
        outputs.description = "times of the field snapshots, ascending, within [0, end]";
        bind<std::vector<double>>(outputs, [](auto& s) -> auto& { return s.time.output_times_s; });
        add(std::move(outputs));
    }
    add(quantity("time.dt_initial", uk::time, "s", quote("0.5 s"), positive_up_to(3600), '-', "first time step",
                 [](auto& s) -> auto& { return s.time.dt_initial_s; }));
    add(quantity("time.dt_max", uk::time, "min", quote("5 min"), positive_up_to(1440), '-', "largest time step",
                 [](auto& s) -> auto& { return s.time.dt_max_s; }));
    add(quantity("time.dt_max_delivery", uk::time, "s", quote("20 s"), positive_up_to(86400), '-',
                 "largest time step while open channels are fed by the film (the fast phase)",
                 [](auto& s) -> auto& { return s.time.dt_max_delivery_s; }));
    add(quantity("time.fine_until", uk::time, "h", quote("24 h"), closed(0, 8760), '-',
                 "transport steps are capped at time.dt_max until then and follow responses.dt after",
                 [](auto& s) -> auto& { return s.time.fine_until_s; }));
    add(number("time.dt_growth", "1.15", closed(1, 10), '-', "largest factor between successive time steps",
               [](auto& s) -> auto& { return s.time.dt_growth; }));

    // [output]
    add(boolean("output.fields", "true", '-', "write 3D fields at the output times",
                [](auto& s) -> auto& { return s.output.write_fields; }));
    add(boolean("output.size_classes", "false", '-', "write each size class as well as the totals",
                [](auto& s) -> auto& { return s.output.write_size_classes; }));
    add(integer("output.compression", "4", closed(0, 9), '-', "gzip level of the HDF5 datasets",
                [](auto& s) -> auto& { return s.output.compression_level; }));
    add(quantity("output.checkpoint_interval", uk::time, "min", quote("10 min"), closed(0, 10080), '-',
                 "least wall-clock time between checkpoints, taken at output times (0: at every output)",
                 [](auto& s) -> auto& { return s.output.checkpoint_interval_s; }));
    return k;
}

std::string bound_text(const Key& key, double v) {
    std::string s = units::format_number(v);
    if (!key.display_unit.empty()) s += " " + key.display_unit;
    return s;
}

std::string type_text(const Key& key) {
    switch (key.type) {
    case Type::Quantity: return std::string(key.kind->name).substr(key.kind->name.find(' ') + 1) + " (" + key.display_unit + ")";
    case Type::QuantityOrNever: return "time (" + key.display_unit + ") or \"never\"";
    case Type::QuantityList: return "array of times (" + key.display_unit + ")";
    case Type::Number: return "number";
    case Type::Integer: return "integer";
    case Type::IntegerPair: return "[N, M] integers";
    case Type::Bool: return "true / false";
    case Type::Text: return "string";
    case Type::Choice: {
        std::string s;
        for (const auto& c : key.choices) s += (s.empty() ? "" : " \\| ") + quote(c);
        return s;
    }
    }
    return {};
}

} // namespace

std::string_view Key::section() const {
    const auto dot = path.rfind('.');
    return std::string_view(path).substr(0, dot);
}

std::string_view Key::name() const {
    const auto dot = path.rfind('.');
    return std::string_view(path).substr(dot + 1);
}

const std::vector<Key>& keys() {
    static const std::vector<Key> table = build_keys();
    return table;
}

const Key* find_key(std::string_view path) {
    for (const auto& k : keys())
        if (k.path == path) return &k;
    return nullptr;
}

const std::vector<std::string>& sections() {
    static const std::vector<std::string> table = [] {
        std::vector<std::string> out;
        for (const auto& k : keys()) {
            // Each prefix of the section path is a table too ("skin" of "skin.dermis").
            const std::string_view sec = k.section();
            for (std::size_t dot = 0;; ++dot) {
                dot = sec.find('.', dot);
                const std::string prefix(sec.substr(0, dot));
                if (std::find(out.begin(), out.end(), prefix) == out.end()) out.push_back(prefix);
                if (dot == std::string_view::npos) break;
            }
        }
        return out;
    }();
    return table;
}

bool is_section(std::string_view path) {
    const auto& s = sections();
    return std::find(s.begin(), s.end(), path) != s.end();
}

std::string quote(std::string_view text) {
    std::string out = "\"";
    for (unsigned char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04X", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

std::string describe_range(const Key& key) {
    const Range& r = key.range;
    const bool has_min = std::isfinite(r.min), has_max = std::isfinite(r.max);
    if (!has_min && !has_max) return {};
    if (has_min && has_max && !r.min_open && !r.max_open)
        return "from " + bound_text(key, r.min) + " to " + bound_text(key, r.max);
    std::string s;
    if (has_min) s = (r.min_open ? "above " : "at least ") + bound_text(key, r.min);
    if (has_max) s += (s.empty() ? "" : ", ") + std::string(r.max_open ? "below " : "up to ") + bound_text(key, r.max);
    return s;
}

std::string expectation(const Key& key) {
    switch (key.type) {
    case Type::Quantity: return units::expectation(*key.kind);
    case Type::QuantityOrNever: return units::expectation(*key.kind) + " or \"never\"";
    case Type::QuantityList:
        return "an array of times such as [\"0 h\", \"1 h\", \"24 h\"]";
    case Type::Number: return "a number such as " + key.default_toml;
    case Type::Integer: return "an integer such as " + key.default_toml;
    case Type::IntegerPair: return "two integers such as [10, 10]";
    case Type::Bool: return "true or false";
    case Type::Text: return "a quoted string";
    case Type::Choice: {
        std::string s = "one of ";
        for (std::size_t i = 0; i < key.choices.size(); ++i)
            s += (i ? ", " : "") + quote(key.choices[i]);
        return s;
    }
    }
    return {};
}

std::string check_value(const Key& key, const Value& value) {
    const auto in_range = [&](double display) {
        const Range& r = key.range;
        if (std::isnan(display)) return false;
        if (r.min_open ? !(display > r.min) : !(display >= r.min)) return false;
        if (r.max_open ? !(display < r.max) : !(display <= r.max)) return false;
        return true;
    };
    const auto what = [&]() {
        std::string noun;
        switch (key.type) {
        case Type::Integer:
        case Type::IntegerPair: noun = "an integer"; break;
        case Type::Number: noun = "a number"; break;
        default: noun = key.kind ? std::string(key.kind->name) : "a value";
        }
        return "out of range; expected " + noun + " " + describe_range(key);
    };
    // Quantities are compared in the display unit, where the range is written.
    const auto display = [&](double v) {
        const double internal = key.value_unit.empty() ? v : units::to_internal(v, key.value_unit);
        return units::from_internal(internal, key.display_unit);
    };
    switch (key.type) {
    case Type::Quantity: return in_range(display(std::get<double>(value))) ? "" : what();
    case Type::QuantityOrNever: {
        const double v = std::get<double>(value);
        return (std::isinf(v) && v > 0) || in_range(display(v)) ? "" : what();
    }
    case Type::QuantityList:
        for (double v : std::get<std::vector<double>>(value))
            if (!in_range(display(v))) return what();
        return "";
    case Type::Number: return in_range(std::get<double>(value)) ? "" : what();
    case Type::Integer: return in_range(static_cast<double>(std::get<std::int64_t>(value))) ? "" : what();
    case Type::IntegerPair:
        for (auto v : std::get<std::array<std::int64_t, 2>>(value))
            if (!in_range(static_cast<double>(v))) return what();
        return "";
    case Type::Choice: {
        const auto& word = std::get<std::string>(value);
        if (std::find(key.choices.begin(), key.choices.end(), word) == key.choices.end())
            return "not a known choice; expected " + expectation(key);
        return "";
    }
    case Type::Bool:
    case Type::Text: return "";
    }
    return "";
}

std::string format_value(const Key& key, const Value& value) {
    const auto q = [&](double v) { return quote(units::format_quantity(v, key.display_unit, key.value_unit)); };
    switch (key.type) {
    case Type::Quantity: return q(std::get<double>(value));
    case Type::QuantityOrNever: {
        const double v = std::get<double>(value);
        return std::isinf(v) ? quote("never") : q(v);
    }
    case Type::QuantityList: {
        std::string s = "[";
        const auto& list = std::get<std::vector<double>>(value);
        for (std::size_t i = 0; i < list.size(); ++i) s += (i ? ", " : "") + q(list[i]);
        return s + "]";
    }
    case Type::Number: return units::format_number(std::get<double>(value));
    case Type::Integer: return std::to_string(std::get<std::int64_t>(value));
    case Type::IntegerPair: {
        const auto& a = std::get<std::array<std::int64_t, 2>>(value);
        return "[" + std::to_string(a[0]) + ", " + std::to_string(a[1]) + "]";
    }
    case Type::Bool: return std::get<bool>(value) ? "true" : "false";
    case Type::Text:
    case Type::Choice: return quote(std::get<std::string>(value));
    }
    return {};
}

std::string reference_markdown() {
    std::ostringstream out;
    out << "| key | kind | default | allowed | status | meaning |\n";
    out << "|---|---|---|---|---|---|\n";
    for (const auto& k : keys()) {
        std::string def = k.default_note;
        if (!k.default_toml.empty()) {
            def = std::string("`").append(k.default_toml).append("`");
            if (!k.default_note.empty()) def.append(" (").append(k.default_note).append(")");
        }
        std::string allowed = k.type == Type::Choice ? type_text(k) : describe_range(k);
        if (allowed.empty()) allowed.push_back('-'); // not = "-": GCC 12 -Wrestrict false positive
        out << "| `" << k.path << "` | " << type_text(k) << " | " << def << " | " << allowed << " | " << k.status
            << " | " << k.description << " |\n";
    }
    return out.str();
}

} // namespace exoderm::schema
