package io.backflow.ledger;

import io.backflow.jdbc.JdbcEndpoint;
import java.io.Serializable;
import java.util.Objects;

/** Where a connection's ledger lives: a database and a schema (default {@code backflow}). */
public final class LedgerStore implements Serializable {
    private static final long serialVersionUID = 1L;

    private final JdbcEndpoint endpoint;
    private final String schema;

    public LedgerStore(JdbcEndpoint endpoint, String schema) {
        this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
        this.schema = schema == null || schema.isEmpty() ? "backflow" : schema;
    }

    public JdbcEndpoint endpoint() {
        return endpoint;
    }

    public String schema() {
        return schema;
    }

    /** Opens the ledger, creating its tables on first use. */
    public Ledger open() {
        return Ledger.open(this);
    }

    @Override
    public String toString() {
        return "LedgerStore{" + endpoint + ", schema=" + schema + "}";
    }
}
