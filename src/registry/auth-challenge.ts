/**
 * `WWW-Authenticate` challenges (RFC 7235 section 4.1), as registries send them:
 * `Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:app:pull"`
 * or `Basic realm="Registry Realm"`. Several challenges may share one header (or several headers,
 * which fetch joins with ", ").
 */

/** One challenge: its scheme (lowercase) and its parameters (names lowercase). */
export interface AuthChallenge {
  /** `basic`, `bearer`, ... */
  scheme: string;
  /** `realm`, `service`, `scope`, `error`, ... */
  params: Record<string, string>;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;

/**
 * Parses a `WWW-Authenticate` header into its challenges. Malformed parts end the parse; what
 * was read before them is returned.
 *
 * @example
 * ```ts
 * parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io"');
 * // [{ scheme: "bearer", params: { realm: "https://auth.docker.io/token", service: "registry.docker.io" } }]
 * ```
 */
export function parseWwwAuthenticate(header: string): AuthChallenge[] {
  const challenges: AuthChallenge[] = [];
  let rest = header;
  const skip = (re: RegExp): void => {
    rest = rest.replace(re, "");
  };
  skip(/^[\s,]+/);
  while (rest.length > 0) {
    const scheme = TOKEN.exec(rest)?.[0];
    if (scheme === undefined) break;
    rest = rest.slice(scheme.length);
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    skip(/^[ \t]+/);
    // token68 form (`Negotiate abc==`): the whole credential, then a comma or the end.
    const t68 = /^([A-Za-z0-9\-._~+/]+=*)[ \t]*(?:,|$)/.exec(rest);
    if (t68?.[1] !== undefined) {
      challenge.params[""] = t68[1];
      rest = rest.slice(t68[0].length);
      skip(/^[\s,]+/);
      continue;
    }
    // auth-params: name=value pairs, comma-separated, until a token that is not followed by "=".
    for (;;) {
      skip(/^[\s,]+/);
      const name = TOKEN.exec(rest)?.[0];
      if (name === undefined) break;
      const afterName = rest.slice(name.length).replace(/^[ \t]*/, "");
      if (!afterName.startsWith("=")) break; // the next challenge's scheme
      rest = afterName.slice(1).replace(/^[ \t]*/, "");
      let value: string;
      if (rest.startsWith('"')) {
        let i = 1;
        value = "";
        for (; i < rest.length && rest[i] !== '"'; i++) {
          if (rest[i] === "\\" && i + 1 < rest.length) i++;
          value += rest[i];
        }
        if (i >= rest.length) return challenges; // unterminated quoted string
        rest = rest.slice(i + 1);
      } else {
        value = TOKEN.exec(rest)?.[0] ?? "";
        rest = rest.slice(value.length);
      }
      challenge.params[name.toLowerCase()] = value;
    }
    skip(/^[\s,]+/);
  }
  return challenges;
}
