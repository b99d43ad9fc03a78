"""The Analyzer's inference rules, one behaviour per test (docs/inference.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from schemashift.core.infer import infer
from schemashift.core.ingest import SHAPE_CACHE_SIZE
from schemashift.core.jsonparse import loads_object
from schemashift.core.profile import Profile, ProfileOptions
from schemashift.core.shape import MAX_WALKER_KEYS


def sound(schema: dict[str, Any], payloads: list[dict[str, Any]]) -> bool:
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return all(validator.is_valid(p) for p in payloads)


def test_schema_declares_the_2020_12_dialect() -> None:
    """The output names its dialect and passes the 2020-12 meta-schema."""
    schema = infer([{"a": 1}])
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_required_means_present_in_every_parent_object() -> None:
    """A key missing from one payload is optional; keys in all payloads are required."""
    schema = infer([{"id": 1, "note": "x"}, {"id": 2}])
    assert schema["required"] == ["id"]
    assert set(schema["properties"]) == {"id", "note"}


def test_nested_required_is_relative_to_the_parent() -> None:
    """A field always present inside an optional object is required there."""
    payloads: list[dict[str, Any]] = [
        {"id": 1, "shipping": {"city": "Paris", "zip": "75001"}},
        {"id": 2},
        {"id": 3, "shipping": {"city": "Lyon"}},
    ]
    schema = infer(payloads)
    assert schema["required"] == ["id"]
    assert schema["properties"]["shipping"]["required"] == ["city"]


def test_required_threshold_is_configurable() -> None:
    """With a 0.5 threshold a key present in half the objects is required."""
    payloads = [{"a": 1, "b": 1}, {"a": 2}]
    schema = infer(payloads, ProfileOptions(required_threshold=0.5))
    assert schema["required"] == ["a", "b"]
    with pytest.raises(ValueError):
        ProfileOptions(required_threshold=0)


def test_null_union_is_a_type_list() -> None:
    """A string that is sometimes null is ["string", "null"], not collapsed."""
    schema = infer([{"a": "x"}, {"a": None}])
    assert schema["properties"]["a"] == {"type": ["string", "null"]}


def test_object_or_string_is_an_any_of() -> None:
    """A field that is an object in some payloads and a string in others keeps both."""
    schema = infer([{"r": {"id": 1}}, {"r": "req_1"}])
    branches = schema["properties"]["r"]["anyOf"]
    assert {"type": "string"} in branches
    assert any(b.get("type") == "object" and "id" in b["properties"] for b in branches)


def test_integer_widens_to_number() -> None:
    """Integers and floats together are `number`, not a union of both."""
    schema = infer([{"x": 1}, {"x": 2.5}])
    assert schema["properties"]["x"] == {"type": "number"}
    assert infer([{"x": 1}])["properties"]["x"] == {"type": "integer"}


def test_booleans_are_never_integers() -> None:
    """true/false next to integers give a union, and `true` is never counted as 1."""
    profile = Profile().update([{"x": True}, {"x": 1}, {"x": False}])
    assert profile.finish()["properties"]["x"] == {"type": ["integer", "boolean"]}
    stats = profile.path_stats()["/x"]
    assert stats.types == {"integer": 1, "boolean": 2}
    assert stats.min == 1 and stats.max == 1


def test_big_integers_stay_exact_integers() -> None:
    """A 30-digit id decoded by the strict parser stays an integer, min/max exact."""
    big = 123456789012345678901234567890
    payload = loads_object(f'{{"id": {big}}}')
    profile = Profile().update([payload, {"id": 1}])
    assert profile.finish()["properties"]["id"] == {"type": "integer"}
    assert profile.path_stats()["/id"].max == big


@pytest.mark.timeout(30)
def test_colliding_integer_hashes_are_bounded() -> None:
    """32,000 multiples of 2**61-1 (all hash to 0) are profiled with a bounded sketch.

    A quadratic hash-table path would take minutes here; the timeout guards against it.
    """
    payload = {"values": [k * (2**61 - 1) for k in range(1, 32_001)]}
    profile = Profile()
    profile.add(payload)
    stats = profile.path_stats()["/values/*"]
    assert stats.count == 32_000
    assert stats.distinct is None
    assert stats.max == 32_000 * (2**61 - 1)


def test_formats_need_every_value_and_enough_evidence() -> None:
    """`format` is emitted only when every string matches and >= format_min_count were seen."""
    stamps = [{"t": f"2024-03-0{d}T10:00:00Z"} for d in range(1, 5)]
    assert infer(stamps)["properties"]["t"]["format"] == "date-time"
    assert "format" not in infer(stamps[:2])["properties"]["t"]
    assert "format" not in infer([*stamps, {"t": "yesterday"}])["properties"]["t"]


def test_format_hits_are_kept_in_path_stats() -> None:
    """path_stats reports per-format hit counts for the formats every string matched."""
    profile = Profile().update({"u": "0f8fad5b-d9cb-469f-a165-70867728950e"} for _ in range(5))
    assert profile.path_stats()["/u"].formats == {"uuid": 5}


def test_enum_needs_many_observations_of_few_short_tokens() -> None:
    """A status vocabulary becomes an enum; ids, free text and rare values do not."""
    statuses = [{"s": ("open", "closed", "merged")[i % 3]} for i in range(30)]
    assert infer(statuses)["properties"]["s"]["enum"] == ["closed", "merged", "open"]
    assert "enum" not in infer(statuses[:10])["properties"]["s"]
    ids = [{"s": f"{i % 4}{i % 4}{i % 4}"} for i in range(40)]
    assert "enum" not in infer(ids)["properties"]["s"]
    text = [{"s": ("hello there", "good bye")[i % 2]} for i in range(40)]
    assert "enum" not in infer(text)["properties"]["s"]
    stamps = [{"s": "2024-01-01"} for _ in range(40)]
    assert "enum" not in infer(stamps)["properties"]["s"]


@pytest.mark.parametrize("name", ["id", "customer_id", "orderId", "node-uuid", "user.id", "IDs"])
def test_fields_named_as_identifiers_never_become_enums(name: str) -> None:
    """A handful of customer ids seen many times is still a set of ids, not a vocabulary."""
    payloads = [{name: f"c-{i % 7}", "status": ("open", "closed")[i % 2]} for i in range(70)]
    schema = infer(payloads)
    assert schema["properties"][name] == {"type": "string"}
    assert schema["properties"]["status"]["enum"] == ["closed", "open"]


@pytest.mark.parametrize("name", ["valid", "paid", "kind", "android", "grid"])
def test_names_that_merely_end_in_id_letters_keep_their_enums(name: str) -> None:
    payloads = [{name: ("yes", "no")[i % 2]} for i in range(40)]
    assert infer(payloads)["properties"][name]["enum"] == ["no", "yes"]


def test_nullable_enum_lists_null() -> None:
    """An enum at a nullable path includes null, so null payloads still validate."""
    payloads = [{"s": ("a1", "b1", None)[i % 3]} for i in range(60)]
    schema = infer(payloads)
    assert schema["properties"]["s"] == {"type": ["string", "null"], "enum": ["a1", "b1", None]}
    assert sound(schema, payloads)


def test_map_under_a_conventional_name() -> None:
    """Stripe-style `metadata` with varying keys becomes additionalProperties, not properties."""
    payloads = [{"metadata": {f"key_{i}": "v"}} for i in range(5)]
    meta = infer(payloads)["properties"]["metadata"]
    assert meta == {"type": "object", "additionalProperties": {"type": "string"}}


def test_map_with_id_keys_gets_property_names() -> None:
    """Objects keyed by numeric ids become a map with a propertyNames pattern."""
    payloads = [{"users": {str(100 + i): {"name": "x", "age": i}}} for i in range(3)]
    users = infer(payloads)["properties"]["users"]
    assert users["propertyNames"] == {"pattern": "^(0|[1-9][0-9]*)$"}
    assert users["additionalProperties"]["required"] == ["age", "name"]
    assert sound(infer(payloads), payloads)


def test_map_detected_by_key_recurrence() -> None:
    """Many keys that each recur rarely, with values of one shape, make a map."""
    payloads = [{"counts": {f"w{i}a": i, f"w{i}b": i}} for i in range(20)]
    assert "additionalProperties" in infer(payloads)["properties"]["counts"]


def test_record_with_recurring_keys_is_not_a_map() -> None:
    """A record whose keys recur in most payloads keeps its properties."""
    payloads = [{"user": {"first": "a", "last": "b", "city": "c"}} for _ in range(20)]
    user = infer(payloads)["properties"]["user"]
    assert set(user["properties"]) == {"first", "last", "city"}


def test_kafka_records_are_a_map_with_a_key_pattern() -> None:
    """Kafka `records.<topic>-<partition>` keys share the name-number class."""
    payloads = [
        {"records": {f"orders-{p}": [{"offset": p, "value": "x"}] for p in range(i % 3 + 1)}}
        for i in range(6)
    ]
    records = infer(payloads)["properties"]["records"]
    assert records["propertyNames"] == {"pattern": "^[A-Za-z0-9_.]+[-:][0-9]+$"}
    assert records["additionalProperties"]["type"] == "array"


def test_ever_new_keys_fold_into_one_value_profile() -> None:
    """An object with ever-new keys stops growing the profile once it has too many keys."""
    options = ProfileOptions(max_object_keys=16)
    profile = Profile(options)
    for i in range(200):
        profile.add({"attrs": {f"k{i}_{j}": j for j in range(5)}})
    paths = profile.path_stats()
    assert "/attrs/*" in paths and paths["/attrs/*"].count == 1000
    assert len(paths) == 3
    assert len(json.dumps(profile.to_dict())) < 10_000
    assert profile.finish()["properties"]["attrs"]["additionalProperties"] == {"type": "integer"}


def test_fixed_length_heterogeneous_arrays_become_prefix_items() -> None:
    """[string, integer] pairs seen often enough become prefixItems with items: false."""
    payloads = [{"pair": [f"k{i}", i]} for i in range(6)]
    pair = infer(payloads)["properties"]["pair"]
    assert pair["prefixItems"] == [{"type": "string"}, {"type": "integer"}]
    assert pair["items"] is False and pair["minItems"] == 2
    homogeneous = infer([{"xy": [i, i + 1]} for i in range(6)])["properties"]["xy"]
    assert homogeneous == {"type": "array", "items": {"type": "integer"}}


def test_tuple_positions_count_every_array_until_the_length_changes() -> None:
    """Fixed-length arrays are routed per type tuple once seen (a cache): the statistics are
    exactly those of profiles that each saw one payload (no cache) merged, before and after
    a new length ends tuple tracking."""
    payloads: list[dict[str, Any]] = []
    for i in range(5):
        payloads += [{"pair": [i, f"s{i}"]}, {"pair": [f"t{i}", i + 0.5]}]
    tail = [{"pair": [1]}, {"pair": [2, "x"]}, {"pair": [3, "y"]}]

    def first_sight_only(items: list[dict[str, Any]]) -> Profile:
        merged = Profile()
        for payload in items:
            merged = merged.merge(Profile().update([payload]))
        return merged

    routed = Profile().update(payloads)
    assert routed.to_dict() == first_sight_only(payloads).to_dict()
    assert routed.finish()["properties"]["pair"]["prefixItems"] == [
        {"type": ["string", "integer"]},
        {"type": ["string", "number"]},
    ]
    routed.update(tail)
    assert routed.to_dict() == first_sight_only(payloads + tail).to_dict()
    # a route kept past the end of tracking would append to positions nobody flushes again
    # (memory growing with the stream): the cache goes with the tuple
    pair = routed._root.obj.children["pair"].arr  # type: ignore[union-attr]
    assert pair is not None and pair.positions is None and pair.routes == {}
    assert "prefixItems" not in routed.finish()["properties"]["pair"]


def test_variable_length_arrays_use_items() -> None:
    """Arrays of several lengths are plain `items` arrays."""
    schema = infer([{"t": ["a"]}, {"t": ["b", "c"]}, {"t": []}])
    assert schema["properties"]["t"] == {"type": "array", "items": {"type": "string"}}


def _actions() -> list[dict[str, Any]]:
    payloads: list[dict[str, Any]] = []
    for i in range(30):
        kind = ("opened", "labeled", "edited")[i % 3]
        payload: dict[str, Any] = {"action": kind, "number": i}
        if kind == "labeled":
            payload |= {"label": {"name": "bug"}, "labeler": "x", "color": "red"}
        if kind == "edited":
            payload |= {"changes": {"title": {"from": "t"}}, "editor": "y", "reason": "z"}
        payloads.append(payload)
    return payloads


def test_discriminator_gives_a_tagged_union() -> None:
    """A field whose value predicts the key set becomes oneOf branches with a const tag."""
    payloads = _actions()
    schema = infer(payloads)
    branches = {b["properties"]["action"]["const"]: b for b in schema["oneOf"]}
    assert set(branches) == {"opened", "labeled", "edited"}
    assert branches["labeled"]["required"] == ["color", "label", "labeler"]
    assert "required" not in branches["opened"]
    assert sound(schema, payloads)
    wrong = {"action": "labeled", "number": 1}
    assert not sound(schema, [wrong])


def test_no_tagged_union_when_it_is_not_tighter() -> None:
    """A `type` field that does not change the key set gives a flat record."""
    payloads = [{"type": ("a", "b")[i % 2], "v": i} for i in range(30)]
    assert "oneOf" not in infer(payloads)


def test_fields_that_always_appear_together_are_dependent_required() -> None:
    """Optional keys that always co-occur give dependentRequired both ways."""
    payloads = [
        {"id": i, **({"lat": 1.0, "lon": 2.0} if i % 2 else {})} | ({"note": "n"} if i % 3 else {})
        for i in range(20)
    ]
    schema = infer(payloads)
    assert schema["dependentRequired"]["lat"] == ["lon"]
    assert schema["dependentRequired"]["lon"] == ["lat"]
    assert "note" not in schema["dependentRequired"]
    assert sound(schema, payloads)


def test_merge_equals_profiling_the_concatenated_stream() -> None:
    """merge() gives the same profile (to_dict) as one profile over both streams."""
    first: list[dict[str, Any]] = [{"a": i, "s": "x" * i, "m": {"k": i}} for i in range(10)]
    second: list[dict[str, Any]] = [{"a": 0.5, "b": None, "m": {"j": "v"}, "arr": [1, "a"]}]
    merged = Profile().update(first).merge(Profile().update(second))
    whole = Profile().update(first + second)
    assert merged.to_dict() == whole.to_dict()
    assert merged.count == 11


def test_merge_leaves_inputs_untouched() -> None:
    """merge returns a new profile; adding to it does not change its inputs."""
    a, b = Profile().update([{"x": 1}]), Profile().update([{"y": "s"}])
    before = (a.to_dict(), b.to_dict())
    merged = a.merge(b)
    merged.add({"z": True})
    assert (a.to_dict(), b.to_dict()) == before


def test_merge_refuses_different_options_and_non_profiles() -> None:
    """Profiles with different bounds cannot be merged; neither can other objects."""
    with pytest.raises(ValueError):
        Profile().merge(Profile(ProfileOptions(distinct_limit=5)))
    with pytest.raises(TypeError):
        Profile().merge({"count": 1})  # type: ignore[arg-type]


def test_to_dict_round_trips_through_json() -> None:
    """A persisted profile restores to an equal profile that keeps learning."""
    profile = Profile().update(_actions())
    data = json.loads(json.dumps(profile.to_dict()))
    restored = Profile.from_dict(data)
    assert restored.to_dict() == profile.to_dict()
    assert restored.finish() == profile.finish()
    restored.add({"action": "opened", "number": 99})
    assert restored.count == profile.count + 1
    with pytest.raises(ValueError):
        Profile.from_dict({**data, "format": 99})


def test_path_stats_report_observations_per_pointer() -> None:
    """path_stats gives counts, types, nulls, ranges and a distinct sample per path."""
    profile = Profile().update(
        [
            {"n": 3, "s": "ab", "items": [{"sku": "A"}, {"sku": "B"}], "a/b": None},
            {"n": 7.5, "s": None, "items": []},
        ]
    )
    stats = profile.path_stats()
    assert stats["/n"].types == {"integer": 1, "number": 1}
    assert (stats["/n"].min, stats["/n"].max) == (3, 7.5)
    assert stats["/s"].nulls == 1 and stats["/s"].str_len == (2, 2)
    assert stats["/items"].array_len == (0, 2)
    assert stats["/items/*/sku"].distinct == ("A", "B")
    assert stats["/a~1b"].count == 1 and stats["/a~1b"].parent_count == 2


def test_non_json_values_are_refused() -> None:
    """Values JSON cannot hold (a set) are a TypeError, as is a non-object payload."""
    with pytest.raises(TypeError):
        Profile().add({"x": {1, 2}})
    with pytest.raises(TypeError):
        Profile().add([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "payload",
    [
        {"tags": [b"x"]},  # short array
        {"tags": ["a", "b", "c", "d", "e", b"x"]},  # long array, routed in one pass
        {"metadata": {"k1": "v", "k2": b"x"}},  # values of a named map
        {"pair": [1, b"x"]},  # a tuple position
    ],
)
def test_non_json_values_are_refused_on_every_route(payload: dict[str, object]) -> None:
    """Buffers are made on first use; each way a scalar reaches one still checks its type."""
    profile = Profile()
    for _ in range(60):  # enough for plans and compiled walkers to exist first
        profile.add({"tags": ["a"], "metadata": {"k1": "v"}, "pair": [1, 2]})
    with pytest.raises(TypeError):
        profile.add(payload)


def test_non_json_value_at_a_compiled_position_is_refused() -> None:
    """A compiled walker's mispredicted position falls back to the checked path."""
    profile = Profile()
    for _ in range(60):
        profile.add({"a": 1, "b": "x"})
    with pytest.raises(TypeError):
        profile.add({"a": 1.5j, "b": "x"})


def test_compiled_shapes_handle_mispredicted_types() -> None:
    """After a shape is compiled, a value of another type at a position is still counted."""
    payloads = [{"a": 1, "b": "x", "c": {"d": 1}, "e": [1]} for _ in range(10)]
    payloads += [{"a": "one", "b": None, "c": [1], "e": {"f": 2}}]
    schema = infer(payloads)
    assert schema["properties"]["a"] == {"type": ["string", "integer"]}
    assert sound(schema, payloads)


@pytest.mark.parametrize("width", [1, MAX_WALKER_KEYS, MAX_WALKER_KEYS + 1])
def test_walkers_of_every_width_route_each_position_to_its_own_path(width: int) -> None:
    """Walkers come from per-arity factories (and past the widest one, plans route): every
    position's values land at its own path, and a later misprediction is still counted."""
    keys = [f"k{j}" for j in range(width)]
    profile = Profile()
    for i in range(10):  # enough for a walker to be made and used
        profile.add({k: 100 * j + i for j, k in enumerate(keys)})
    profile.add({k: f"s{j}" for j, k in enumerate(keys)})
    stats = profile.path_stats()
    for j, key in enumerate(keys):
        at = stats[f"/{key}"]
        assert at.count == 11
        assert at.types == {"integer": 10, "string": 1}
        assert (at.min, at.max) == (100 * j, 100 * j + 9)


def test_rows_held_by_plans_reach_the_map_an_object_is_folded_into() -> None:
    """Plans keep each object's values as a row until the flush; folding the object into a
    map mid-window merges its children, so the rows must land in them first."""
    profile = Profile(ProfileOptions(flush_every=10_000))
    for _ in range(3):  # second and third sight of this key order: rows in a plan
        profile.add({"o": {"a": 1, "b": "x"}})
    for i in range(300):  # ever-new keys: folded into a map at max_object_keys
        profile.add({"o": {f"k{i}": i}})
    star = profile.path_stats()["/o/*"]
    assert star.count == 3 * 2 + 300
    assert star.types == {"integer": 3 + 300, "string": 3}


def test_key_orders_past_the_shape_cache_are_counted_exactly() -> None:
    """One-off key orders beyond the per-path cache take the generic walk; the statistics
    equal those of the same payloads in the opposite order (other orders are cached)."""
    payloads = [{"o": {f"k{i}": i, "x": f"s{i % 3}", f"y{i}": None}} for i in range(100)]
    options = ProfileOptions(keyset_limit=1000)  # key-set tracking outlives the cache
    forward = Profile(options).update(payloads)
    backward = Profile(options).update(payloads[::-1])
    assert forward.to_dict() == backward.to_dict()
    assert len(forward._root.obj.children["o"].obj.shapes) == SHAPE_CACHE_SIZE  # type: ignore[union-attr]
    stats = forward.path_stats()
    assert stats["/o/x"].count == 100 and stats["/o/k7"].count == 1
    assert stats["/o/y42"].nulls == 1


def test_a_dead_tag_makes_the_path_forget_its_remembered_shape() -> None:
    """Each path remembers the previous object's shape. A discriminator candidate that dies
    (too many values) drops the cached shapes with their tag counters, and the remembered
    one with them: the next object of the same key order no longer counts the dead tag."""
    profile = Profile(ProfileOptions(flush_every=1, tag_max_branches=2))
    for value in ("a", "b", "c"):  # the third value kills `type` at the flush after it
        profile.add({"o": {"type": value, "n": 1}})
    profile.add({"o": {"type": "d", "n": 1}})
    stats = profile._root.obj.children["o"].obj  # type: ignore[union-attr]
    assert stats is not None and "type" in stats.dead_tags
    assert stats.last_entry is not None and stats.last_entry.tag_slots == ()
    assert profile.path_stats()["/o/n"].count == 4


def test_empty_profile_gives_an_object_schema() -> None:
    """No payloads: a schema that accepts any object, and an empty path list but the root."""
    profile = Profile()
    assert profile.finish() == {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
    }
    assert profile.count == 0


def test_star_path_merges_map_values_and_array_items() -> None:
    """A path that is a map in some payloads and an array in others has one `*` entry."""
    profile = Profile().update([{"m": {"123": 1, "456": 2}}, {"m": [3, 4, 5]}])
    star = profile.path_stats()["/m/*"]
    assert star.count == 5 and (star.min, star.max) == (1, 5)


def test_cardinality_storms_stay_bounded() -> None:
    """Ever-new top-level keys and ever-new string values do not grow the profile."""
    profile = Profile()
    for i in range(3000):
        profile.add({f"key_{i}": f"value {i}", "id": f"id-{i}"})
    size = len(json.dumps(profile.to_dict()))
    assert size < 20_000
    assert set(profile.path_stats()) == {"", "/*"}
    assert profile.path_stats()["/*"].distinct is None
    schema = profile.finish()
    assert schema["additionalProperties"] == {"type": "string"}


def test_long_arrays_of_mixed_values_are_counted_exactly() -> None:
    """Long arrays take the C routing path: every element lands in its type's statistics."""
    payload = {"a": ["x", 1, 2.5, True, None, {"k": 1}, [1], "y", 3, False]}
    stats = Profile().update([payload]).path_stats()
    assert stats["/a/*"].types == {
        "string": 2,
        "integer": 2,
        "number": 1,
        "boolean": 2,
        "null": 1,
        "object": 1,
        "array": 1,
    }
    assert stats["/a"].array_len == (10, 10)
    assert stats["/a/*/k"].count == 1 and stats["/a/*/*"].count == 1
