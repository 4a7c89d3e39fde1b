export { manifest, diffManifests, type Manifest } from '../../shared/restore/compareTrees';
