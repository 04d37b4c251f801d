"""The scenario runs the role from the collection as ansible-galaxy built and installed it, not from the checkout."""

import json
import os


def test_the_role_comes_from_the_built_and_installed_collection():
    paths = os.environ["ANSIBLE_COLLECTIONS_PATH"].split(os.pathsep)
    assert paths == [os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "collections")], paths
    installed = os.path.join(paths[0], "ansible_collections", "vigil", "observability")
    assert not os.path.islink(installed), "the checkout's development link, not an install"
    with open(os.path.join(installed, "MANIFEST.json")) as handle:
        manifest = json.load(handle)["collection_info"]
    assert (manifest["namespace"], manifest["name"]) == ("vigil", "observability")
    assert os.path.isfile(os.path.join(installed, "roles", "node_exporter", "tasks", "main.yml"))
    assert not os.path.exists(os.path.join(installed, ".venv")) and not os.path.exists(os.path.join(installed, ".git"))
