package io.backflow.sink;

import java.io.Serializable;
import java.net.URI;
import java.util.Objects;

/**
 * Where a destination gets OAuth2 client-credentials access tokens: a {@code POST} of a JSON
 * {@code body} (its {@code grant_type}, {@code client_id}, {@code client_secret}...) to {@code uri},
 * answered {@code {"access_token", "expires_in"}}. The transport fetches, caches and renews the
 * token and puts {@code Authorization: Bearer <token>} on every request when it is sent.
 *
 * @param credentialSettings the settings to name when the endpoint refuses the credentials, such
 *     as {@code destination.client_id and destination.client_secret}
 * @param urlSetting the setting to name when there is no token endpoint at {@code uri}
 */
public record TokenEndpoint(URI uri, byte[] body, String credentialSettings, String urlSetting) implements Serializable {
    public TokenEndpoint {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(body, "body");
        Objects.requireNonNull(credentialSettings, "credentialSettings");
        Objects.requireNonNull(urlSetting, "urlSetting");
    }

    /** For messages: no credentials, no query string. */
    public String display() {
        return Urls.display(uri);
    }

    @Override
    public String toString() {
        return "TokenEndpoint{" + display() + "}";
    }
}
