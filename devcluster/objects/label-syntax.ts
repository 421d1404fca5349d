// The syntax of label keys and values (and annotation keys), as kube-apiserver checks them in
// objects and in selectors alike, with its wording: a key is a qualified name — an optional DNS
// subdomain prefix and "/", then a name part of at most 63 bytes.
const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const namePart = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** What is wrong with a label or annotation key; empty when it is a valid qualified name. */
export function qualifiedNameProblems(key: string): string[] {
  const slash = key.lastIndexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  const problems: string[] = [];
  if (prefix !== undefined) {
    if (prefix.length === 0) problems.push('prefix part must be non-empty');
    else if (Buffer.byteLength(prefix) > 253) problems.push('prefix part must be no more than 253 bytes');
    else if (!subdomain.test(prefix)) problems.push("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
  }
  if (name.length === 0) problems.push('name part must be non-empty');
  else if (Buffer.byteLength(name) > 63) problems.push('name part must be no more than 63 bytes');
  if (name.length > 0 && !namePart.test(name)) problems.push("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character");
  return problems;
}

/** What is wrong with a label value; undefined when it is valid (empty is). */
export function labelValueProblem(value: string): string | undefined {
  if (Buffer.byteLength(value) > 63) return 'must be no more than 63 bytes';
  if (!labelValue.test(value)) return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}
