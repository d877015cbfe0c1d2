"""A second worker process for the freshness tests: reads JSON commands on stdin, one a line,
runs them through the face-registry services with its own in-memory index, answers on stdout.

``python -m tests.face_registry.registry_process`` with DATABASE_URL pointing at the test
database (and DJANGO_SETTINGS_MODULE=enhancer_site.settings_test).
"""

from __future__ import annotations

import json
import sys

import django


def main() -> None:
    django.setup()
    from apps.face_registry import services
    from apps.face_registry.models import Space

    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        space = Space.objects.get(pk=command["space"])
        try:
            if command["op"] == "set":
                with open(command["path"], "rb") as handle:
                    services.set_face(space, command["person_id"], handle.read(), command["path"])
                answer: dict = {"ok": True}
            elif command["op"] == "recognize":
                with open(command["path"], "rb") as handle:
                    result = services.recognize(space, handle.read(), command["path"], False)
                answer = {"tags": [face.tag for face in result.faces]}
            elif command["op"] == "delete_person":
                answer = {"deleted": services.delete_person(space, command["person_id"])}
            else:
                answer = {"error": f"unknown op {command['op']}"}
        except Exception as error:  # noqa: BLE001 - reported to the test, which fails on it
            answer = {"error": repr(error)}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
