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
    /** The dialect when the URL's own would be wrong (Redshift through the PostgreSQL driver), else null. */
    private final String dialectName;

    public JdbcEndpoint(String url, String user, String password) {
        this(url, user, password, null);
    }

    /**
     * @param dialectName a {@link SqlDialect#name} that overrides the one the URL implies, or null
     * @throws IllegalArgumentException for a name no dialect has
     */
    public JdbcEndpoint(String url, String user, String password, String dialectName) {
        this.url = Objects.requireNonNull(url, "url");
        this.user = user;
        this.password = password;
        if (dialectName != null) {
            Dialects.named(dialectName);
        }
        this.dialectName = dialectName;
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
        return dialectName != null ? Dialects.named(dialectName) : SqlDialect.forUrl(url);
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
        String driverUrl = dialect().driverUrl(url);
        Connection c = JdbcDrivers.forUrl(driverUrl, redactedUrl()).connect(driverUrl, props);
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
        return url.equals(that.url) && Objects.equals(user, that.user) && Objects.equals(password, that.password)
                && Objects.equals(dialectName, that.dialectName);
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
