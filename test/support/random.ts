export { SeededRandom } from '../../shared/local/seededRandom';
