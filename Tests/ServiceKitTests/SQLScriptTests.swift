@testable import ServiceKit
import Testing

@Suite("SQL script splitting")
struct SQLScriptTests {
    @Test("splits on semicolons and trims")
    func splitsStatements() {
        let statements = SQLScript.statements(in: "CREATE TABLE a (x int);\n  INSERT INTO a VALUES (1) ;\nSELECT 1")
        #expect(statements == ["CREATE TABLE a (x int)", "INSERT INTO a VALUES (1)", "SELECT 1"])
    }

    @Test("keeps semicolons inside strings, identifiers and comments")
    func quotedSemicolons() {
        let script = """
            INSERT INTO t VALUES ('a;b', 'it''s; fine');
            CREATE TABLE "odd;name" (x int); -- trailing; comment
            /* block; /* nested; */ still comment */ SELECT 2;
            """
        let statements = SQLScript.statements(in: script)
        #expect(statements.count == 3)
        #expect(statements[0] == "INSERT INTO t VALUES ('a;b', 'it''s; fine')")
        #expect(statements[1] == "CREATE TABLE \"odd;name\" (x int)")
        #expect(statements[2].hasSuffix("SELECT 2"))
    }

    @Test("keeps dollar-quoted bodies whole, with and without tags")
    func dollarQuotes() {
        let script = """
            CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;
            DO $body$ BEGIN PERFORM 1; END $body$;
            SELECT $1::int;
            """
        let statements = SQLScript.statements(in: script)
        #expect(statements == [
            "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
            "DO $body$ BEGIN PERFORM 1; END $body$",
            "SELECT $1::int",
        ])
    }

    @Test("drops pieces that hold only comments or whitespace")
    func commentOnlyPieces() {
        #expect(SQLScript.statements(in: "-- header\n;\n  ;/* nothing */;") == [])
        #expect(SQLScript.statements(in: "-- comment\nSELECT 1;") == ["-- comment\nSELECT 1"])
    }
}

extension SQLScriptTests {
    @Test("E'…' strings honour backslash escapes; plain strings and identifiers ending in e do not")
    func escapeStrings() {
        let script = #"INSERT INTO t VALUES (E'it\'s; fine', 'C:\'); SELECT 'x';"#
        #expect(SQLScript.statements(in: script) == [#"INSERT INTO t VALUES (E'it\'s; fine', 'C:\')"#, "SELECT 'x'"])
        #expect(SQLScript.statements(in: #"SELECT name'a;b' FROM t; SELECT 2"#).count == 2)
    }
}
