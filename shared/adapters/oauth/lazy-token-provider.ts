/**
 * An OAuth token provider built on first use: msal is only loaded by runs that authenticate. A module of its own so
 * that composition roots which need tokens but no runtime (the confirm functions) do not import `runtime.ts` and,
 * with it, the SPF evaluator and its dependencies.
 */
import { trimEndOf } from '../../domain/unsafe-text.ts';
import type { TokenProvider } from '../../ports/token-provider.ts';

export function lazyTokenProvider(options: {
  authorityHost?: string | undefined;
  ca?: string | undefined;
}): TokenProvider {
  let provider: Promise<TokenProvider> | undefined;
  return {
    getToken: async (request) => {
      provider ??= import('./msal-token-provider.ts').then(
        ({ MsalTokenProvider }) =>
          new MsalTokenProvider({
            ...(options.authorityHost ? { authorityHost: trimEndOf(options.authorityHost, '/') } : {}),
            ...(options.ca ? { ca: options.ca } : {}),
          }),
      );
      return (await provider).getToken(request);
    },
  };
}
