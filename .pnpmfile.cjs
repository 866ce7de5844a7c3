// What users install is the package, not our workshop: the published manifest carries no
// devDependencies (they name private workspace packages such as the test kit) and no scripts.
module.exports = {
  hooks: {
    beforePacking(manifest) {
      delete manifest.devDependencies
      delete manifest.scripts
      return manifest
    },
  },
}
