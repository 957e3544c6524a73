/**
 * The configuration fragments the state, delivery and ops end-to-end tests share: the MSP header with a DNS resolver
 * that never answers (the tests serve only the blocklist), and the lab blocklist zone served by rbldnsd. Each test
 * appends its own incidents, alerts and tenants sections.
 */

/**
 * The lab zone as a `blocklists.custom` list (indented for a `blocklists:` section), for configs that set their own
 * resolvers: the Lambda end-to-end test, the worker's unit test and the budget CLI test.
 */
export const LAB_ZONE_CUSTOM = `  custom:
    - id: lab
      name: lab.bl.test
      operator: Lab Blocklist
      scope: ip
      kind: abuse
      codes: { 127.0.0.2: { meaning: spam trap, kind: abuse } }
      errorCodes: {}
      ipv6: false
      key: null
      publicResolvers: works
      terms: test zone
      lookupUrl: https://lab.bl.test/lookup
      removalUrl: https://lab.bl.test/remove
      defaultEnabled: true`;
export const LAB_CONFIG_HEADER = `
version: 1
msp:
  name: Lab MSP
  contact: { name: Lab NOC, email: noc@msp.example }
dns:
  resolvers: [udp://127.0.0.1:9]
  timeoutMs: 200
blocklists:
  custom:
    - id: lab
      name: lab.bl.test
      operator: Lab Blocklist
      scope: ip
      kind: abuse
      codes:
        127.0.0.2: { meaning: "spam source seen by the lab trap", kind: abuse }
      errorCodes: {}
      ipv6: false
      key: null
      publicResolvers: works
      terms: "test zone"
      lookupUrl: https://lab.bl.test/lookup
      removalUrl: https://lab.bl.test/remove
      defaultEnabled: true`;
