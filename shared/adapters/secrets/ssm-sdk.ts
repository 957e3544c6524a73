/**
 * The two names of `@aws-sdk/client-ssm` the parameter source uses, loaded through this module by a dynamic import:
 * `import('@aws-sdk/client-ssm')` itself would hand over the package's whole namespace, which esbuild cannot tree
 * shake (226 KB of every command's schema in each function bundle; through this module, about 30 KB).
 */
export { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
