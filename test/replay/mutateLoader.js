// A webpack loader for the replay suite's own check (replay.test.ts): it changes one workflow's
// source as a careless edit would, before the bundler compiles it. Throws when the text to change
// is gone, so the check cannot pass by changing nothing.
module.exports = function mutate(source) {
  const { find, replace, prepend = '' } = this.getOptions();
  if (!source.includes(find)) throw new Error(`mutateLoader: "${find}" is not in ${this.resourcePath}`);
  return prepend + source.replace(find, replace);
};
