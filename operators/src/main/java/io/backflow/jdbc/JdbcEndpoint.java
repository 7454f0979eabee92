package io.backflow.jdbc;

import java.io.Serializable;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import java.util.Properties;

/** Where a database is and how to log in; opens JDBC connections and never prints its password. */
public final class JdbcEndpoint implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String url;
    private final String user;
    private final String password;

    public JdbcEndpoint(String url, String user, String password) {
        this.url = Objects.requireNonNull(url, "url");
        this.user = user;
        this.password = password;
    }

    public String url() {
        return url;
    }

    public String user() {
        return user;
    }

    public String password() {
        return password;
    }

    public SqlDialect dialect() {
        return SqlDialect.forUrl(url);
    }

    /** Opens a new connection; the caller owns and closes it. */
    public Connection open() throws SQLException {
        Properties props = new Properties();
        if (user != null && !user.isEmpty()) {
            props.setProperty("user", user);
        }
        if (password != null && !password.isEmpty()) {
            props.setProperty("password", password);
        }
        Connection c = JdbcDrivers.forUrl(url, redactedUrl()).connect(url, props);
        if (c == null) {
            throw new SQLException("the JDBC driver refused " + redactedUrl());
        }
        return c;
    }

    /** The URL with any inline password removed, for logs and messages. */
    public String redactedUrl() {
        return url.replaceAll("(?i)((?:password|passwd|pwd|token|[a-z_]*_token|secret|[a-z_]*key)=)[^&;]*", "$1***")
                .replaceAll("//([^:/@]+):[^@/]*@", "//$1:***@");
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof JdbcEndpoint)) {
            return false;
        }
        JdbcEndpoint that = (JdbcEndpoint) o;
        return url.equals(that.url) && Objects.equals(user, that.user) && Objects.equals(password, that.password);
    }

    @Override
    public int hashCode() {
        return Objects.hash(url, user);
    }

    @Override
    public String toString() {
        return "JdbcEndpoint{" + redactedUrl() + (user == null ? "" : ", user=" + user) + "}";
    }
}
