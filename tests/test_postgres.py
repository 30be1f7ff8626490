"""nbgrader's gradebook on a real, temporary PostgreSQL server (tests/postgres.py)."""

from nbgrader.api import Gradebook

from postgres import alive, port_open, temporary_postgres


def test_gradebook_on_a_temporary_postgres_server(tmp_path):
    with temporary_postgres(tmp_path) as server:
        with Gradebook(server.url) as gradebook:
            gradebook.add_student("ada", first_name="Ada", last_name="Lovelace")
            gradebook.add_assignment("building_blocks")
        # A second connection sees what the first committed, so it is in the server, not in a session
        with Gradebook(server.url) as gradebook:
            assert [(s.id, s.first_name, s.last_name) for s in gradebook.students] == [("ada", "Ada", "Lovelace")]
            assert [a.name for a in gradebook.assignments] == ["building_blocks"]
            assert gradebook.engine.dialect.name == "postgresql"
        assert alive(server.pid) and port_open(server.port)

    assert not alive(server.pid), f"the postmaster (pid {server.pid}) outlived the context"
    assert not port_open(server.port), f"port {server.port} still accepts connections after the server stopped"
    assert list(tmp_path.iterdir()) == [], "the server's folder was left behind"
