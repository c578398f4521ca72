"""The printable plan (Vietnamese or English) and its JSON-able record."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cityhealth.emergency.planning.cover import CoverPlan, Layer

LABELS = {
    "vi": {
        "title": "KẾ HOẠCH BẢO ĐẢM Y TẾ SỰ KIỆN",
        "event": "Sự kiện",
        "start": "Bắt đầu",
        "duration": "Thời lượng (giờ)",
        "crowd": "Tổng số người dự kiến",
        "estimate": "Dự báo",
        "patients": "Bệnh nhân dự kiến (thấp / dự kiến / cao)",
        "transports": "Chuyển viện dự kiến (thấp / dự kiến / cao)",
        "method": "Phương pháp",
        "factors": "Hệ số",
        "resources": "Nguồn lực đề xuất (Maurer)",
        "teams": "Tổ sơ cấp cứu",
        "ambulances": "Xe cứu thương",
        "physicians": "Bác sĩ",
        "posts": "Điểm sơ cứu",
        "staff": "Nhân lực",
        "whole": "Nếu tính cả sự kiện như một địa điểm",
        "post_layer": "Điểm sơ cứu (đi bộ)",
        "amb_layer": "Điểm trực xe cứu thương (đường bộ)",
        "share": "Tỷ lệ đám đông được bao phủ trong",
        "minutes": "phút",
        "greedy": "so với thuật toán tham lam",
        "twice": "Tỷ lệ được từ hai điểm trở lên bao phủ (dự phòng khi một điểm bận)",
        "nearest_mean": "Thời gian trung bình đến điểm gần nhất",
        "order": "Tiêu chí chọn, theo thứ tự: số người được bao phủ kịp thời; số người được hai "
        "điểm bao phủ; thời gian đến điểm gần nhất",
        "covers": "bao phủ",
        "only_here": "duy nhất kịp thời cho",
        "one_of_two": "một trong hai điểm kịp thời cho",
        "nearest_for": "gần nhất với",
        "reserve": "dự bị: không cải thiện tiêu chí nào",
        "uncovered": "Chưa được bao phủ",
        "hospitals": "Bệnh viện tiếp nhận (gần nhất theo đường chim bay)",
    },
    "en": {
        "title": "EVENT MEDICAL COVER PLAN",
        "event": "Event",
        "start": "Start",
        "duration": "Duration (hours)",
        "crowd": "Expected crowd",
        "estimate": "Estimate",
        "patients": "Expected patients (low / expected / high)",
        "transports": "Expected transports (low / expected / high)",
        "method": "Method",
        "factors": "Factors",
        "resources": "Recommended resources (Maurer)",
        "teams": "First-aid teams",
        "ambulances": "Ambulances",
        "physicians": "Physicians",
        "posts": "First-aid posts",
        "staff": "Staff",
        "whole": "If the whole event is scored as one venue",
        "post_layer": "First-aid posts (on foot)",
        "amb_layer": "Ambulance standby points (by road)",
        "share": "Share of the crowd covered within",
        "minutes": "min",
        "greedy": "greedy heuristic",
        "twice": "Share covered by two sites or more (a spare when one is busy)",
        "nearest_mean": "Mean time to the nearest site",
        "order": "Chosen by, in this order: crowd covered in time; crowd covered by two sites; "
        "time to the nearest site",
        "covers": "covers",
        "only_here": "the only one in time for",
        "one_of_two": "one of two in time for",
        "nearest_for": "nearest for",
        "reserve": "reserve: improves no criterion",
        "uncovered": "Not covered",
        "hospitals": "Receiving hospitals (nearest by straight line)",
    },
}


def render_plan_text(plan: CoverPlan, language: str = "vi") -> str:
    """The plan as plain text for printing; Vietnamese unless English is asked for."""
    lang = "en" if language.lower().startswith("en") else "vi"
    t = LABELS[lang]
    e, est = plan.event, plan.estimate
    rec, whole = est.recommended, est.maurer_whole_event
    lines = [
        t["title"],
        "=" * len(t["title"]),
        f"{t['event']}: {e.name}",
        f"{t['start']}: {e.start:%Y-%m-%d %H:%M}",
        f"{t['duration']}: {e.duration_hours:g}",
        f"{t['crowd']}: {_n(e.crowd)}",
        "",
        t["estimate"],
        f"{t['patients']}: {_band(est.patients)}",
        f"{t['transports']}: {_band(est.transports)}",
        f"{t['method']}: {est.method_vi if lang == 'vi' else est.method_en}",
        f"{t['factors']}: "
        + "; ".join(f"{f.vi if lang == 'vi' else f.en} ×{f.value:.2f}" for f in est.factors),
        "",
        t["resources"],
        f"{t['teams']}: {rec.first_aid_teams}",
        f"{t['ambulances']}: {rec.ambulances}",
        f"{t['physicians']}: {rec.physicians}",
        f"{t['posts']}: {rec.posts}",
        f"{t['staff']}: {rec.staff}",
        f"{t['whole']}: {t['ambulances']} {whole.ambulances}, {t['teams']} {whole.first_aid_teams}",
    ]
    for key, layer in (("post_layer", plan.posts), ("amb_layer", plan.ambulances)):
        lines += ["", *_layer_lines(t, t[key], layer, plan.coverage_minutes)]
    lines += ["", t["hospitals"]]
    lines += [
        f"- {h.name} ({h.lat:.5f}, {h.lon:.5f}) {h.straight_km:.1f} km" for h in plan.hospitals
    ]
    return "\n".join(lines) + "\n"


def plan_record(plan: CoverPlan) -> dict[str, Any]:
    """Everything in the plan as plain JSON types."""
    record = asdict(plan)
    record["event"]["start"] = plan.event.start.isoformat()
    return _plain(record)  # type: ignore[no-any-return]


def _layer_lines(t: dict[str, str], title: str, layer: Layer, minutes: float) -> list[str]:
    lines = [
        title,
        f"{t['share']} {minutes:g} {t['minutes']}: {layer.covered_share:.0%} "
        f"({t['greedy']}: {layer.greedy_share:.0%})",
    ]
    if layer.sites:
        lines += [
            f"{t['twice']}: {layer.twice_share:.0%}",
            f"{t['nearest_mean']}: {layer.mean_nearest_minutes:.1f} {t['minutes']}",
            t["order"],
        ]
    # Each site's share in the three criteria is why it was chosen: the crowd it alone reaches
    # in time, the crowd for which it is one of only two in time, the crowd it is nearest to.
    for k, site in enumerate(layer.sites, start=1):
        gains = (site.crowd_only_here, site.crowd_backed_up, site.crowd_nearest)
        lines.append(
            f"{k}. {site.name} ({site.lat:.5f}, {site.lon:.5f}) {t['covers']} "
            f"{len(site.covers)} ({_n(site.crowd_covered)}): "
            f"{t['only_here']} {_n(site.crowd_only_here)}; "
            f"{t['one_of_two']} {_n(site.crowd_backed_up)}; "
            f"{t['nearest_for']} {_n(site.crowd_nearest)}"
            + ("" if any(gains) else f" ({t['reserve']})")
        )
    if layer.uncovered:
        lines.append(f"{t['uncovered']}: " + ", ".join(p.name for p in layer.uncovered))
    return lines


def _band(band: Any) -> str:
    return f"{band.low:.0f} / {band.expected:.0f} / {band.high:.0f}"


def _n(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value
